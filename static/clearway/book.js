/* Booking page: live check of the typed window against every calendar.
 *
 * The server turns the typed wall-clock window and its zone into instants
 * (/jobs/preview/), so the browser never does zone arithmetic to *ask*; it
 * then asks the public API (/api/v1/checks and /api/v1/slots) with the
 * session cookie and the CSRF token, like any other client would.
 * Everything is built with textContent: finding titles are user input.
 */
(function () {
  "use strict";
  var form = document.getElementById("job-form");
  if (!form) { return; }

  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var viewerZone = form.dataset.viewerZone;
  var statusBox = document.getElementById("live-status");
  var findingsBox = document.getElementById("live-findings");
  var slotsBox = document.getElementById("live-slots");
  var occurrencesBox = document.getElementById("live-occurrences");
  var impactedBox = document.getElementById("live-impacted");
  var dependents = JSON.parse(document.getElementById("dependents-data").textContent);
  var kindLabels = JSON.parse(document.getElementById("kind-labels").textContent);
  var SEVERITY = {
    refuse: ["\u2716", "Refused"], flag: ["\u26A0", "Flagged"], clear: ["\u2714", "Clear"]
  };
  var timer = null;
  var sequence = 0;

  function field(name) { return form.elements.namedItem(name); }
  function value(name) { var f = field(name); return f ? f.value : ""; }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function badge(severity) {
    var s = SEVERITY[severity] || ["\u2022", severity];
    return el("span", {"class": "badge badge-" + severity}, [
      el("span", {"aria-hidden": "true", text: s[0]}), document.createTextNode(" " + s[1])
    ]);
  }

  var formatter = new Intl.DateTimeFormat("en-GB", {
    timeZone: viewerZone, weekday: "short", day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short"
  });
  function when(iso) { return formatter.format(new Date(iso)); }

  /* The API writes instants in messages in UTC ("2030-12-12 23:59 UTC"); the
     page shows them in the viewer's zone, named, as the server-rendered pages do. */
  var UTC_INSTANT = /(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})(?: and (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}))? UTC/g;
  function localText(text) {
    return (text || "").replace(UTC_INSTANT, function (all, d1, t1, d2, t2) {
      var first = when(d1 + "T" + t1 + ":00Z");
      return d2 ? first + " and " + when(d2 + "T" + t2 + ":00Z") : first;
    });
  }

  /* The wall-clock value of an instant in `zone`, as a datetime-local input wants it. */
  function wallClock(iso, zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    }).formatToParts(new Date(iso)).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
  }

  function selectedSystems() {
    return Array.prototype.map.call(
      form.querySelectorAll("input[name=systems]:checked"), function (box) { return box.value; });
  }

  function impactedBy(systems) {
    var found = {}, frontier = systems.slice();
    systems.forEach(function (s) { found[s] = true; });
    while (frontier.length) {
      var next = [];
      frontier.forEach(function (s) {
        (dependents[s] || []).forEach(function (d) { if (!found[d]) { found[d] = true; next.push(d); } });
      });
      frontier = next;
    }
    return Object.keys(found).filter(function (s) { return systems.indexOf(s) < 0; }).sort();
  }

  function showImpacted() {
    var extra = impactedBy(selectedSystems());
    impactedBox.textContent = extra.length
      ? "Also impacted (they depend on what you book): " + extra.join(", ") + "."
      : "";
  }

  function toggles() {
    var preset = value("recurrence");
    form.querySelectorAll("[data-show-for]").forEach(function (box) {
      box.hidden = box.dataset.showFor.split(" ").indexOf(preset) < 0;
    });
    var emergency = field("emergency");
    var justification = document.getElementById("justification-box");
    if (emergency && justification) {
      justification.hidden = !emergency.checked && !justification.querySelector(".field-errors");
    }
  }

  function say(text, kind) {
    statusBox.className = "live-status" + (kind ? " live-" + kind : "");
    statusBox.textContent = text;
  }

  function firstError(errors) {
    var names = Object.keys(errors || {});
    if (!names.length) { return "The window is not valid."; }
    var first = errors[names[0]];
    var message = Array.isArray(first) ? (first[0].message || first[0]) : first;
    return (names[0] === "__all__" ? "" : names[0] + ": ") + message;
  }

  function showOccurrences(preview) {
    occurrencesBox.textContent = "";
    preview.occurrences.forEach(function (o) { occurrencesBox.appendChild(el("li", {text: o.label})); });
    if (preview.total > preview.occurrences.length) {
      occurrencesBox.appendChild(el("li", {"class": "more", text: "\u2026 " + preview.total + " in all"}));
    }
  }

  function showFindings(answer) {
    findingsBox.textContent = "";
    var decision = el("p", {"class": "decision decision-" + answer.decision}, [badge(answer.decision)]);
    var explain = {
      clear: " Nothing collides with this window.",
      flag: " It can be booked; the teams concerned will review these findings.",
      refuse: " This window cannot be booked. Choose a clear window below, or mark it an emergency."
    }[answer.decision];
    decision.appendChild(document.createTextNode(explain));
    findingsBox.appendChild(decision);
    if (!answer.findings.length) { return; }
    var list = el("ul", {"class": "findings"});
    answer.findings.forEach(function (f) {
      var source = f.url ? el("a", {href: f.url, text: f.title}) : el("span", {text: f.title});
      list.appendChild(el("li", {"class": "finding finding-" + f.severity}, [
        el("div", {"class": "finding-head"}, [
          badge(f.severity), document.createTextNode(" "),
          el("span", {"class": "kind", text: kindLabels[f.kind] || f.kind}),
          document.createTextNode(" "), source
        ]),
        el("p", {text: localText(f.message)}),
        // A deadline's message gives its due instant and traffic window; the summed peak would confuse.
        el("p", {"class": "meta", text: (f.kind === "deadline" ? "Traffic" : when(f.start) + " \u2013 " + when(f.end)) +
          (f.systems.length ? " \u00B7 on " + f.systems.join(", ") : "")})
      ]));
    });
    findingsBox.appendChild(list);
  }

  function showSlots(slots) {
    slotsBox.textContent = "";
    if (!slots.length) {
      slotsBox.appendChild(el("p", {text: "No clear window was found in the planning horizon."}));
      return;
    }
    slotsBox.appendChild(el("h3", {text: "Next clear windows"}));
    var list = el("ul", {"class": "slots"});
    slots.forEach(function (slot) {
      list.appendChild(el("li", {}, [
        el("span", {"class": "slot-time", text: when(slot.start) + " \u2013 " + when(slot.end)}),
        el("button", {type: "button", "class": "secondary apply-slot", "data-start": slot.start,
          "data-end": slot.end, text: "Use this slot"})
      ]));
    });
    slotsBox.appendChild(list);
  }

  /* When rescheduling, the job's current booking is not a collision with itself:
   * the API leaves it out when given its id. */
  var ownJob = form.dataset.jobId ? Number(form.dataset.jobId) : null;

  function getJSON(response) {
    return response.json().catch(function () { return {message: "Unexpected answer (" + response.status + ")."}; })
      .then(function (body) { return {ok: response.ok, body: body}; });
  }

  function check() {
    var mine = ++sequence;
    showImpacted();
    var params = new URLSearchParams();
    ["start", "end", "timezone", "start_fold", "end_fold", "recurrence", "count", "rrule"].forEach(function (name) {
      params.set(name, value(name));
    });
    fetch(form.dataset.previewUrl + "?" + params.toString(), {
      credentials: "same-origin", headers: {Accept: "application/json"}
    }).then(getJSON).then(function (preview) {
      if (mine !== sequence) { return null; }
      if (!preview.ok) {
        occurrencesBox.textContent = "";
        findingsBox.textContent = "";
        slotsBox.textContent = "";
        say("Check the window: " + firstError(preview.body.errors), "error");
        return null;
      }
      showOccurrences(preview.body);
      var systems = selectedSystems();
      if (!systems.length) {
        findingsBox.textContent = "";
        slotsBox.textContent = "";
        say("Choose at least one system to check the window.");
        return null;
      }
      say("Checking\u2026");
      var impact = value("impact");
      return fetch(form.dataset.checksUrl, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json"},
        body: JSON.stringify({systems: systems, start: preview.body.start, end: preview.body.end, impact: impact,
                              exclude_job: ownJob})
      }).then(getJSON).then(function (answer) {
        if (mine !== sequence) { return null; }
        if (!answer.ok) { say(answer.body.message + " " + firstError(answer.body.errors), "error"); return null; }
        var n = answer.body.findings.length;
        say({clear: "Clear: nothing collides.", flag: "Flagged: " + n + " finding" + (n === 1 ? "" : "s") + ".",
          refuse: "Refused: " + n + " finding" + (n === 1 ? "" : "s") + ". Clear windows are offered below."}[answer.body.decision],
          answer.body.decision);
        showFindings(answer.body);
        if (answer.body.decision === "clear") { slotsBox.textContent = ""; return null; }
        var start = Date.parse(preview.body.start), end = Date.parse(preview.body.end);
        var query = new URLSearchParams({
          systems: systems.join(","), impact: impact, limit: "3",
          duration: "PT" + Math.max(1, Math.round((end - start) / 60000)) + "M",
          after: new Date(Math.max(start, Date.now())).toISOString()
        });
        if (ownJob) { query.set("exclude_job", String(ownJob)); }
        return fetch(form.dataset.slotsUrl + "?" + query.toString(), {
          credentials: "same-origin", headers: {Accept: "application/json"}
        }).then(getJSON).then(function (slots) {
          if (mine === sequence && slots.ok) { showSlots(slots.body.slots); }
        });
      });
    }).catch(function () {
      if (mine === sequence) { say("Clearway could not check the window just now; it is checked again when you submit.", "error"); }
    });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".apply-slot");
    if (!button) { return; }
    var zone = value("timezone") || viewerZone;
    field("start").value = wallClock(button.dataset.start, zone);
    field("end").value = wallClock(button.dataset.end, zone);
    say("Applied the slot " + when(button.dataset.start) + " \u2013 " + when(button.dataset.end) + ". Checking\u2026");
    statusBox.focus();
    schedule();
  });
  form.addEventListener("input", function () { toggles(); schedule(); });
  form.addEventListener("change", function () { toggles(); schedule(); });
  toggles();
  check();
}());
