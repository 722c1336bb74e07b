"""The first-party web tracking snippet (``/t.js``): the script file and how it is served."""
