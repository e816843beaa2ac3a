// The new-goal page: picking a dimension's suggestion fills the form in place. Without this
// script each suggestion is a link that loads the form filled in.
(function () {
  "use strict";

  function fill(form, pick) {
    var data = pick.dataset;
    ["title", "description", "relevant", "achievable", "measurable", "measure", "baseline",
     "target_value"].forEach(function (name) {
      var key = name.replace(/_([a-z])/g, function (m, c) { return c.toUpperCase(); });
      var field = form.querySelector("[name=" + name + "]");
      if (field && data[key] !== undefined) { field.value = data[key]; }
    });
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
