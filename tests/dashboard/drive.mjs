// Drives Debian's chromium, headless, on mcshare's dashboard, as a teacher
// would: see who watches, pause, resume, change the quality, show a part of
// the screen, end. Called by tests/net/dashboard_netns.sh, which starts the
// broadcast and the viewers.
//   node drive.mjs URL OUTDIR
// Environment: SHOT = a command that writes a screenshot of a student's
// screen (binary PPM) to the path given as its last argument; NAMES = the
// viewer names the roster must show, comma-separated.
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const [url, out] = process.argv.slice(2);
const shotCmd = (process.env.SHOT || "").split(" ").filter(Boolean);
const names = (process.env.NAMES || "").split(",").filter(Boolean);
if (!url || !out || !shotCmd.length) {
  console.error("usage: SHOT='cmd ...' NAMES=a,b node drive.mjs URL OUTDIR");
  process.exit(2);
}
const log = (m) => console.error("drive: " + m);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let shots = 0;

// The student's screen, as pixels (PPM: a text header, then RGB bytes).
function shot() {
  const file = `${out}/student-${++shots}.ppm`;
  execFileSync(shotCmd[0], [...shotCmd.slice(1), file], { stdio: "ignore", timeout: 10000 });
  return readFileSync(file);
}

// k screenshots `gap` ms apart: how many different pictures they show.
async function distinct(k, gap) {
  const seen = new Set();
  for (let i = 0; i < k; i++) {
    seen.add(shot().toString("base64"));
    if (i + 1 < k) await sleep(gap);
  }
  return seen.size;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
});
let failed = null;
try {
  const page = await browser.newPage();
  page.on("dialog", (d) => d.accept()); // "End the broadcast for every student?"

  // Without the token: refused, and nothing of the page.
  const bare = url.replace(/\?token=.*$/, "");
  const r0 = await page.goto(bare);
  if (r0.status() !== 403) throw new Error(`the page without its token answered ${r0.status()}, not 403`);
  const r1 = await page.goto(bare + "?token=" + "0".repeat(32));
  if (r1.status() !== 403) throw new Error(`a wrong token answered ${r1.status()}, not 403`);
  log("refused without the token and with a wrong one (403)");

  const r = await page.goto(url);
  if (r.status() !== 200) throw new Error(`the page answered ${r.status()}`);
  await page.waitForFunction((want) => {
    const cells = [...document.querySelectorAll("#roster tr td:first-child")].map((td) => td.textContent);
    return want.every((n) => cells.includes(n));
  }, names, { timeout: 30000 });
  await page.waitForFunction(() => document.querySelector("#live").textContent === "LIVE", null, { timeout: 5000 });
  log(`the roster shows ${names.join(", ")}; the stream is LIVE`);
  await page.screenshot({ path: `${out}/dashboard-live.png`, fullPage: true });

  let n = await distinct(6, 400);
  if (n < 2) throw new Error("the student's picture does not move before the pause (the test needs it to)");
  log(`before the pause: ${n} different pictures in 6 screenshots`);

  await page.click("#pause");
  await page.waitForFunction(() => document.querySelector("#live").textContent.startsWith("PAUSED"), null, { timeout: 5000 });
  await sleep(1000); // what was on its way when the button was pressed
  n = await distinct(5, 500);
  if (n !== 1) throw new Error(`paused, yet the student's picture changed (${n} different in 5 screenshots)`);
  log("paused: the student's picture is frozen (5 identical screenshots over 2 s)");
  await page.screenshot({ path: `${out}/dashboard-paused.png`, fullPage: true });

  await page.click("#resume");
  await page.waitForFunction(() => document.querySelector("#live").textContent === "LIVE", null, { timeout: 5000 });
  await sleep(500);
  n = await distinct(6, 400);
  if (n < 2) throw new Error("resumed, yet the student's picture stays frozen");
  log(`resumed: ${n} different pictures in 6 screenshots`);

  // A quality preset starts a new session: the students follow it.
  await page.selectOption("#preset", "sharp");
  await page.waitForFunction(() => document.querySelector("#msg").textContent.startsWith("Quality: Sharp"), null, { timeout: 5000 });
  await sleep(2500);
  n = await distinct(6, 400);
  if (n < 2) throw new Error("after the preset change the student's picture no longer moves");
  log(`preset 'sharp': the student follows the new session (${n} different pictures)`);

  // A part of the screen: the picture the students get takes its size.
  await page.selectOption("#show", "region");
  await page.fill("#region", "320x180+0+0");
  await page.click("#setregion");
  await page.waitForFunction(() => document.querySelector("#f-size").textContent === "320x180", null, { timeout: 5000 });
  log("showing 320x180+0+0: the stream is 320x180");
  // The monitors the screen has (Xvfb lists one: the whole screen).
  const monitors = await page.$$eval("#show option", (o) => o.map((x) => x.value).filter((v) => v.startsWith("monitor:")));
  if (!monitors.length) throw new Error("no monitor listed");
  await page.selectOption("#show", monitors[0]);
  await page.waitForFunction(() => document.querySelector("#f-size").textContent !== "320x180", null, { timeout: 5000 });
  const size = await page.textContent("#f-size");
  log(`monitor ${monitors[0]}: the stream is ${size}`);
  // A bad part is refused with a reason, and the broadcast goes on.
  await page.selectOption("#show", "region");
  await page.fill("#region", "600x300+200+100");
  await page.click("#setregion");
  await page.waitForFunction(() => document.querySelector("#msg").textContent.startsWith("cannot show"), null, { timeout: 5000 });
  log("a part outside the screen: " + (await page.textContent("#msg")));

  await page.click("#end");
  await page.waitForFunction(() => document.querySelector("#live").textContent.startsWith("ENDED"), null, { timeout: 10000 });
  log("End: the page says the broadcast ended");
} catch (e) {
  failed = e;
} finally {
  await browser.close();
}
if (failed) {
  console.error("drive: FAIL: " + failed.message);
  process.exit(1);
}
