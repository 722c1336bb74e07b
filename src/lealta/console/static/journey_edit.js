// The journey editor: with scripts on, htmx swaps a kind's fields as soon as it is chosen, so
// the "Show its fields" buttons (for browsers without scripts) are hidden.
document.documentElement.classList.add("js");
