// The audience builder shows a field's problem once the marketer has left the field (or
// changed it), not as soon as an empty rule appears: the fields left so far travel with the
// form as "touched". Leaving a field whose problem waits (data-problem) without changing it
// asks the server for the builder again, as a change would.
(() => {
  const builder = (field) => field && field.form && field.form.id === "builder" ? field.form : null;

  const mark = (field) => {
    const form = builder(field);
    if (!form || !field.name || field.type === "hidden" || field.type === "submit") return false;
    const touched = form.elements.namedItem("touched");
    const names = new Set(touched.value.split(" ").filter(Boolean));
    if (names.has(field.name)) return false;
    names.add(field.name);
    touched.value = [...names].join(" ");
    return true;
  };

  // capture: marked before htmx reads the form for the change's request
  document.addEventListener("change", (event) => mark(event.target), true);
  document.addEventListener("focusout", (event) => {
    const field = event.target;
    if (mark(field) && field.hasAttribute("data-problem")) {
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }, true);
})();
