// Parse many iCalendar files with Mozilla's ical.js in one process; print, per file, the
// problems found: a failed parse, a TZID without its VTIMEZONE, or an event ical.js cannot
// read (start, end, duration). Usage: node check_ics.mjs FILE...
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function problems(text) {
  const found = [];
  let root;
  try {
    root = new ICAL.Component(ICAL.parse(text));
  } catch (error) {
    return [`parse: ${error.message}`];
  }
  const zones = new Set();
  for (const vtz of root.getAllSubcomponents("vtimezone")) {
    const tz = new ICAL.Timezone(vtz);
    zones.add(tz.tzid);
    ICAL.TimezoneService.register(tz.tzid, tz);
  }
  for (const vevent of root.getAllSubcomponents("vevent")) {
    try {
      const event = new ICAL.Event(vevent);
      for (const name of ["dtstart", "dtend"]) {
        const prop = vevent.getFirstProperty(name);
        const tzid = prop?.getParameter("tzid");
        if (tzid && !zones.has(tzid)) found.push(`${event.uid}: TZID ${tzid} has no VTIMEZONE`);
      }
      if (!event.startDate) found.push(`${event.uid}: no start`);
      if (event.endDate && event.endDate.compare(event.startDate) < 0) {
        found.push(`${event.uid}: ends before it starts`);
      }
    } catch (error) {
      found.push(`event: ${error.message}`);
    }
  }
  return found;
}

const result = {};
for (const path of process.argv.slice(2)) result[path] = problems(readFileSync(path, "utf8"));
process.stdout.write(JSON.stringify(result));
