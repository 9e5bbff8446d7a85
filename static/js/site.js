// Site-wide behaviour, kept out of the pages so that the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  // A form whose button carries data-confirm asks first: <button data-confirm="…">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
