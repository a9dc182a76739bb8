/* Kampus booking pages, progressive enhancement only: every action also works without this file.
   - Print buttons on the door sign.
   - Booking form: show only the repeat options of the chosen repeat, follow the room for the
     override field, keep the monthly weekday in step with the date, add more "except" dates, and
     fetch the live check (the same dry run as the Check button) into an aria-live region. */
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  var form = document.querySelector("[data-booking-form]");
  if (!form) { return; }

  function field(name) { return form.elements.namedItem(name); }
  function value(name) {
    var element = field(name);
    if (!element) { return ""; }
    if (element instanceof RadioNodeList) { return element.value; }
    return element.value;
  }

  function showRepeatOptions() {
    var chosen = value("repeat") || "none";
    form.querySelectorAll("[data-show-for]").forEach(function (element) {
      element.hidden = element.getAttribute("data-show-for").split(" ").indexOf(chosen) === -1;
    });
  }

  var overrideRooms = (form.getAttribute("data-override-rooms") || "").split(",").filter(Boolean);
  function showOverride() {
    var wrapper = form.querySelector("[data-override-field]");
    var room = value("room");
    if (wrapper) { wrapper.hidden = room !== "" && overrideRooms.indexOf(room) === -1; }
  }

  function syncMonthly() {
    var date = value("date");
    var ordinal = field("monthly_ordinal");
    var weekday = field("monthly_weekday");
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !ordinal || !weekday) { return; }
    var parts = date.split("-").map(Number);
    var day = new Date(parts[0], parts[1] - 1, parts[2]);
    var nth = Math.floor((parts[2] - 1) / 7) + 1;
    ordinal.value = String(nth <= 4 ? nth : -1);
    weekday.value = String((day.getDay() + 6) % 7);  // Monday = 0, as on the server
  }

  function addDateButton() {
    var list = form.querySelector("[data-date-list]");
    if (!list || !list.parentNode) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    var holder = list.closest("[data-add-label]");
    button.textContent = holder ? holder.getAttribute("data-add-label") : "+";
    button.addEventListener("click", function () {
      var items = list.querySelectorAll("li");
      var last = items[items.length - 1];
      var copy = last.cloneNode(true);
      var input = copy.querySelector("input");
      var label = copy.querySelector("label");
      var id = list.id.replace(/_list$/, "") + "_" + items.length;
      input.id = id;
      input.value = "";
      label.htmlFor = id;
      label.textContent = label.textContent.replace(/\d+$/, String(items.length + 1));
      list.appendChild(copy);
      input.focus();
    });
    list.parentNode.insertBefore(button, list.nextSibling);
  }

  var region = document.querySelector("[data-preview-region]");
  var summaryTarget = form.querySelector("[data-summary-target]");
  var previewUrl = form.getAttribute("data-preview-url");
  var timer = null;
  var latest = 0;
  function refreshPreview() {
    if (!previewUrl || !region || !window.fetch || !window.FormData) { return; }
    var body = new FormData(form);
    body.delete("action");
    var token = field("csrfmiddlewaretoken");
    var request = ++latest;
    fetch(previewUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "", "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      if (request !== latest) { return; }  // a newer check is on its way
      region.innerHTML = html;
      var fresh = region.querySelector("[data-summary]");
      if (summaryTarget) { summaryTarget.textContent = fresh ? fresh.textContent : ""; }
    }).catch(function () { /* the Check button still works */ });
  }
  function schedulePreview() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refreshPreview, 400);
  }

  form.addEventListener("change", function (event) {
    var name = event.target.name;
    if (name === "repeat") { showRepeatOptions(); }
    if (name === "room") { showOverride(); }
    if (name === "date") { syncMonthly(); }
    schedulePreview();
  });

  showRepeatOptions();
  showOverride();
  addDateButton();
})();
