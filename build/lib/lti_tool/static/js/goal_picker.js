// The new-goal page: picking a dimension's suggestion fills the form in place. Without this
// script each suggestion is a link that loads the form filled in.
(function () {
  "use strict";

  function fill(form, pick) {
    var data = pick.dataset;
    form.querySelector("[name=title]").value = data.title;
    form.querySelector("[name=specific]").value = data.specific;
    form.querySelector("[name=relevant]").value = data.relevant;
    var target = form.querySelector("[name=target_date]");
    if (!target.value) { target.value = data.target; }
    form.querySelectorAll("input[name=dimension_ids]").forEach(function (box) {
      if (box.value === data.dimension) { box.checked = true; }
    });
    form.querySelector("[name=title]").focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-goal-form]");
    if (!form) { return; }
    document.querySelectorAll("[data-pick]").forEach(function (pick) {
      pick.addEventListener("click", function (event) {
        event.preventDefault();
        fill(form, pick);
      });
    });
  });
}());
