/* Kampus, every page; progressive enhancement only.
   After an action the page reloads with its outcome somewhere down a long page: move the focus
   there, so that keyboard and screen-reader users land on it (and it is scrolled into view).
   The outcome of the action ("Check", a search) is marked data-focus-on-load; without one, the
   error summary of a refused form gets the focus. Both carry tabindex="-1". */
(function () {
  "use strict";
  var target = document.querySelector("[data-focus-on-load]") || document.querySelector("[data-error-summary]");
  if (target) { target.focus(); }
})();
