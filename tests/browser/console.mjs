// Drives the Vigil console in headless Chromium (Debian's /usr/bin/chromium).
//
//   node tests/browser/console.mjs <console url> [artifact dir]
//
// Signs in as the moderator (VIGIL_MODERATOR, default "moderator", with VIGIL_PASSWORD),
// claims the first case of the queue with the keyboard, reveals a masked term if there
// is one, removes the item with a reason template (the "r" shortcut), and checks that
// the decision shows on the account page and, signed out and in again as the auditor
// (VIGIL_AUDITOR, default "auditor", with VIGIL_AUDITOR_PASSWORD or VIGIL_PASSWORD), in
// the audit log; then that the dashboard draws its charts.
// Screenshots go to the artifact directory (default artifacts/browser/). Exits 1 on the
// first failed check, naming it.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = (process.argv[2] || "http://127.0.0.1:8000").replace(/\/$/, "");
const out = process.argv[3] || "artifacts/browser";
const password = process.env.VIGIL_PASSWORD || "correct horse battery staple";
const auditorPassword = process.env.VIGIL_AUDITOR_PASSWORD || password;
const moderator = process.env.VIGIL_MODERATOR || "moderator";
const auditor = process.env.VIGIL_AUDITOR || "auditor";
mkdirSync(out, { recursive: true });

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
}

async function signIn(page, user, secret) {
  await page.goto(`${base}/login`);
  await page.fill('input[name="username"]', user);
  await page.fill('input[name="password"]', secret);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
}

// a fresh profile each run (Playwright passes it as --user-data-dir)
const profile = mkdtempSync(join(tmpdir(), "vigil-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1360, height: 900 },
});
let failed = false;
try {
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));

  // sign in: the moderator lands on the queue
  await page.goto(base + "/");
  check(page.url().startsWith(`${base}/login`), "/ sends a visitor to the login form");
  await shot(page, "01-login");
  await signIn(page, moderator, password);
  check(new URL(page.url()).pathname === "/queue", "a moderator lands on the queue");
  const rows = await page.locator("tr[data-row]").count();
  check(rows > 0, `the queue lists cases (${rows})`);
  await shot(page, "02-queue");

  // j selects the first row, c claims it (and opens the case)
  await page.keyboard.press("j");
  check(await page.locator("tr[data-row].selected").count() === 1, "j selects a row");
  const caseId = await page.locator("tr[data-row].selected").getAttribute("data-case");
  await Promise.all([page.waitForNavigation(), page.keyboard.press("c")]);
  check(new URL(page.url()).pathname === `/cases/${caseId}`, "c claims the case and opens it");
  check(await page.locator("text=Claimed by you").count() === 1, "the case is held by us");
  check(await page.locator("#keys kbd").count() >= 5, "the shortcut legend is visible");
  const masks = page.locator(".item-text .mask");
  if (await masks.count() > 0) {
    const before = await masks.first().textContent();
    await masks.first().click();
    const after = await masks.first().textContent();
    check(before !== after && !after.includes("•"), "a click reveals a masked term");
  }
  await shot(page, "03-case");

  // r: remove, with the reason template preselected for the case's category
  const account = await page.locator("#account-link").textContent();
  const accountHref = await page.locator("#account-link").getAttribute("href");
  const template = await page.locator("#template").inputValue();
  if (!template) {
    await page.selectOption("#template", { index: 1 });
  }
  await Promise.all([page.waitForNavigation(), page.keyboard.press("r")]);
  const outcome = await page.locator("#outcome").textContent();
  check(/remove/.test(outcome), "r removes the item: the case is closed with remove");
  const decision = (await page.locator("#outcome code").textContent()).trim();
  check(decision.length > 0, `the decision has an id (${decision})`);
  await shot(page, "04-decided");

  // the account page lists it
  await page.goto(base + accountHref);
  const row = page.locator(`tr[data-decision="${decision}"]`);
  check(await row.count() === 1, `the account page of ${account} lists the decision`);
  check(/remove/.test(await row.textContent()), "... as a removal by the reviewer");
  await shot(page, "05-account");

  // sign out; the auditor finds the decision in the audit log, and the chain verifies
  await Promise.all([page.waitForNavigation(), page.click("header form button")]);
  check(new URL(page.url()).pathname === "/login", "signing out returns to the login form");
  const ap = page;
  await signIn(ap, auditor, auditorPassword);
  check(new URL(ap.url()).pathname === "/dashboard", "an auditor lands on the dashboard");
  await ap.goto(`${base}/log`);
  check(await ap.locator(`tr[data-kind="decision"] code:text-is("${decision}")`).count() === 1,
        "the audit log shows the decision");
  await Promise.all([ap.waitForNavigation(), ap.click("#verify")]);
  check(/Verified/.test(await ap.locator("#verify-result").textContent()),
        "the log verifies");
  await shot(ap, "06-log");

  // the dashboard draws its charts
  await ap.goto(`${base}/dashboard`);
  const charts = await ap.locator(".chart svg[role=img]").count();
  check(charts >= 6, `the dashboard draws its charts (${charts} svg)`);
  check(await ap.locator(".chart svg .bar, .chart svg .segment, .chart svg .series").count() > 0,
        "... with marks in them");
  await shot(ap, "07-dashboard");
  await ap.goto(`${base}/policy`);
  await shot(ap, "08-policy");

  check(errors.length === 0, `no script errors (${errors.join("; ")})`);
} catch (e) {
  failed = true;
  console.error(String(e && e.stack || e));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
