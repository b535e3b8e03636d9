// Read wall-clock times in a VTIMEZONE the way ical.js does. Input (stdin, JSON):
// [vtimezone text, [local ISO date-times]]; output: the UTC instant of each.
import ICAL from "ical.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const [text, locals] = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const calendar = new ICAL.Component(ICAL.parse(`BEGIN:VCALENDAR\r\n${text}END:VCALENDAR\r\n`));
const zone = new ICAL.Timezone(calendar.getFirstSubcomponent("vtimezone"));
const out = locals.map((local) => {
  const time = ICAL.Time.fromDateTimeString(local);
  time.zone = zone;
  return time.toJSDate().toISOString();
});
process.stdout.write(JSON.stringify(out));
