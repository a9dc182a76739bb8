// Parse an iCalendar feed (stdin) with Mozilla's ical.js, the parser inside Thunderbird, and print
// every occurrence starting in [FROM, TO) as JSON: one line, a list of
// {uid, recurrence_id, start, end, summary, status, location, sequence}, times as UTC ISO 8601.
//
//   node expand.js 2027-01-01T00:00:00Z 2028-01-01T00:00:00Z < feed.ics
//
// The feed's own VTIMEZONEs are registered first, as a calendar client does; a series is
// expanded with its overrides (RECURRENCE-ID) related to it, EXDATEs applied by ical.js.
"use strict";

process.env.TZ = "UTC";
const fs = require("fs");
const ICAL = require("ical.js");

const [from, to] = process.argv.slice(2).map((value) => ICAL.Time.fromJSDate(new Date(value), true));
const root = new ICAL.Component(ICAL.parse(fs.readFileSync(0, "utf8")));

for (const zone of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(zone);
}

const byUid = new Map();
for (const component of root.getAllSubcomponents("vevent")) {
  const uid = component.getFirstPropertyValue("uid");
  if (!byUid.has(uid)) byUid.set(uid, { master: null, exceptions: [] });
  const group = byUid.get(uid);
  if (component.hasProperty("recurrence-id")) group.exceptions.push(component);
  else group.master = component;
}

const iso = (time) => time.toJSDate().toISOString().replace(".000Z", "Z");
const occurrences = [];

function add(uid, details, recurrenceId) {
  const item = details.item.component;
  if (details.startDate.compare(to) >= 0 || details.endDate.compare(from) <= 0) return;
  occurrences.push({
    uid,
    recurrence_id: recurrenceId ? iso(recurrenceId) : null,
    start: iso(details.startDate),
    end: iso(details.endDate),
    summary: item.getFirstPropertyValue("summary"),
    status: item.getFirstPropertyValue("status"),
    location: item.getFirstPropertyValue("location"),
    sequence: item.getFirstPropertyValue("sequence"),
  });
}

for (const [uid, group] of byUid) {
  if (group.master === null) {
    // Overrides without their series: shown as they are.
    for (const exception of group.exceptions) {
      const event = new ICAL.Event(exception);
      add(uid, { item: event, startDate: event.startDate, endDate: event.endDate }, event.recurrenceId);
    }
    continue;
  }
  const event = new ICAL.Event(group.master);
  for (const exception of group.exceptions) event.relateException(exception);
  if (!event.isRecurring()) {
    add(uid, { item: event, startDate: event.startDate, endDate: event.endDate }, null);
    continue;
  }
  const iterator = event.iterator();
  for (let next = iterator.next(); next; next = iterator.next()) {
    if (next.compare(to) >= 0 && next.compare(event.startDate) >= 0) {
      // Past the window: an override may still move a later instance into it, so look a little further.
      if (next.compare(to.clone().adjust(400, 0, 0, 0)) >= 0) break;
    }
    add(uid, event.getOccurrenceDetails(next), next);
  }
}

occurrences.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.uid < b.uid ? -1 : 1));
process.stdout.write(JSON.stringify(occurrences) + "\n");
