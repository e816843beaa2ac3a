// Post a form marked data-autosubmit as soon as the page loads (the Deep Linking response
// back to the LMS). Without JavaScript the form's own button does the same.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-autosubmit]");
    if (form) { form.submit(); }
  });
})();
