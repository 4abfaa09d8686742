// Parse an iCalendar file with Mozilla's ical.js and print its events as JSON.
// Usage: node parse_ics.mjs calendar.ics
// Fails (exit 1) on anything ical.js cannot parse, or on a TZID without its VTIMEZONE.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(process.argv[2], "utf8");
const root = new ICAL.Component(ICAL.parse(text));
const timezones = {};
for (const vtz of root.getAllSubcomponents("vtimezone")) {
  const tz = new ICAL.Timezone(vtz);
  timezones[tz.tzid] = tz;
  ICAL.TimezoneService.register(tz.tzid, tz);
}

function time(prop) {
  if (!prop) return null;
  const tzid = prop.getParameter("tzid");
  if (tzid && !timezones[tzid]) {
    throw new Error(`TZID ${tzid} has no VTIMEZONE`);
  }
  const value = prop.getFirstValue();
  if (value.isDate) return { date: value.toString() };
  return { utc: value.toJSDate().toISOString(), tzid: tzid || null };
}

const events = root.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  return {
    uid: event.uid,
    summary: event.summary,
    description: event.description,
    location: event.location,
    status: vevent.getFirstPropertyValue("status"),
    sequence: event.sequence,
    url: vevent.getFirstPropertyValue("url"),
    start: time(vevent.getFirstProperty("dtstart")),
    end: time(vevent.getFirstProperty("dtend")),
    last_modified: vevent.getFirstPropertyValue("last-modified")?.toString() ?? null,
  };
});
process.stdout.write(
  JSON.stringify({
    name: root.getFirstPropertyValue("x-wr-calname"),
    timezones: Object.keys(timezones),
    events,
  }),
);
