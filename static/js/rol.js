/* Rank order list: drag and drop, an enhancement only.
 *
 * The list works without this file: number inputs, move up/down buttons and "Save order" in a plain form
 * (the keyboard path). Where JavaScript runs, a mouse or touch user can also drag a row; dropping it
 * renumbers the same inputs in the new order and submits the same form with its "Save order" button, so
 * the server sees exactly what typing the numbers would have sent (with the list's version).
 */
(function () {
  "use strict";

  function renumber(form) {
    var inputs = form.querySelectorAll("tr[data-rol-row] input.rank-input");
    for (var i = 0; i < inputs.length; i++) {
      inputs[i].value = String(i + 1);
    }
  }

  function enhance(form) {
    var dragged = null;
    var save = form.querySelector('button[type="submit"]:not([name])');
    var rows = form.querySelectorAll("tr[data-rol-row]");
    Array.prototype.forEach.call(rows, function (row) {
      row.setAttribute("draggable", "true");
      row.classList.add("rol-draggable");
      row.addEventListener("dragstart", function (event) {
        dragged = row;
        row.classList.add("rol-dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", "");
      });
      row.addEventListener("dragend", function () {
        row.classList.remove("rol-dragging");
        dragged = null;
      });
      row.addEventListener("dragover", function (event) {
        if (dragged && dragged !== row) {
          event.preventDefault();
          event.dataTransfer.dropEffect = "move";
        }
      });
      row.addEventListener("drop", function (event) {
        if (!dragged || dragged === row) { return; }
        event.preventDefault();
        var box = row.getBoundingClientRect();
        var after = event.clientY > box.top + box.height / 2;
        row.parentNode.insertBefore(dragged, after ? row.nextSibling : row);
        renumber(form);
        if (save && form.requestSubmit) { form.requestSubmit(save); } else { form.submit(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-rol-list]"), enhance);
  });
})();
