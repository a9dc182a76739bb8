/* Subscribe page: "Copy the address" buttons (shown only where the clipboard can be written).
   Without the script the address stays in a read-only field to select and copy by hand. */
(function () {
  "use strict";
  if (!navigator.clipboard || !window.isSecureContext) { return; }
  var status = document.getElementById("copy-status");
  var buttons = document.querySelectorAll("[data-copy-from]");
  Array.prototype.forEach.call(buttons, function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-from"));
    if (!field) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        if (status) { status.textContent = status.getAttribute("data-copied") || ""; }
      }, function () {
        field.select();
      });
    });
  });
})();
