// A scripted "browser" for the user's side of the OAuth device authorization
// grant (RFC 8628) on the test identity provider (tests/clients/oidc_idp.mjs,
// oidc-provider's device pages and development interactions).
//
// usage: node oidc_browser.mjs URL USER_CODE LOGIN [--cancel-at device|login|consent]
//
// Opens URL (the verification_uri, or verification_uri_complete), enters
// USER_CODE when asked, checks that the confirmation page shows USER_CODE and
// confirms it, signs in as LOGIN (any password) and consents. With
// --cancel-at, the user instead aborts on the device confirmation page or
// follows "[ Cancel ]" on the login or consent page, which denies access.
//
// Plain fetch with manual redirects and a small cookie jar (name, path,
// expiry); forms are read from the HTML (action, method, hidden inputs).
// Prints one line per page and a last line "result: signed-in" or
// "result: denied"; exits 0 when that is what was asked for, 1 otherwise.

const [url, userCode, login, ...rest] = process.argv.slice(2);
let cancelAt;
for (let i = 0; i < rest.length; i += 1) {
  if (rest[i] === "--cancel-at" && ["device", "login", "consent"].includes(rest[i + 1])) {
    cancelAt = rest[i + 1];
    i += 1;
  } else {
    fail(`unknown argument ${rest[i]}`, 2);
  }
}
if (!url || !userCode || !login) {
  fail("usage: node oidc_browser.mjs URL USER_CODE LOGIN [--cancel-at device|login|consent]", 2);
}

function fail(message, code = 1) {
  console.error(`oidc_browser: ${message}`);
  process.exit(code);
}

// Cookies: name+path -> {name, value, path, expires}.
const jar = new Map();

function storeCookies(response, requestUrl) {
  for (const header of response.headers.getSetCookie()) {
    const [pair, ...attrs] = header.split(";").map((s) => s.trim());
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const cookie = { name: pair.slice(0, eq), value: pair.slice(eq + 1), path: "/", expires: Infinity };
    // The default path is the request path's directory (RFC 6265 5.1.4).
    const dir = requestUrl.pathname.slice(0, requestUrl.pathname.lastIndexOf("/"));
    cookie.path = dir || "/";
    for (const attr of attrs) {
      const [k, v = ""] = attr.split("=");
      const key = k.toLowerCase();
      if (key === "path" && v.startsWith("/")) cookie.path = v;
      if (key === "expires") cookie.expires = Date.parse(v);
      if (key === "max-age") cookie.expires = Date.now() + Number(v) * 1000;
    }
    const id = `${cookie.name};${cookie.path}`;
    if (cookie.expires <= Date.now()) jar.delete(id);
    else jar.set(id, cookie);
  }
}

function cookieHeader(requestUrl) {
  const path = requestUrl.pathname;
  const matches = [...jar.values()].filter(
    (c) =>
      c.expires > Date.now() &&
      (path === c.path || path.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`)),
  );
  // Longer paths first (RFC 6265 5.4).
  matches.sort((a, b) => b.path.length - a.path.length);
  return matches.map((c) => `${c.name}=${c.value}`).join("; ");
}

// One navigation: the request, then its redirects. Returns {url, status, html}.
async function navigate(method, target, form) {
  let current = new URL(target);
  let body = form ? new URLSearchParams(form).toString() : undefined;
  for (let hops = 0; hops < 20; hops += 1) {
    const headers = { accept: "text/html" };
    const cookies = cookieHeader(current);
    if (cookies) headers.cookie = cookies;
    if (body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
    const response = await fetch(current, { method, headers, body, redirect: "manual" });
    storeCookies(response, current);
    console.log(`${method} ${current.pathname}${current.search} -> ${response.status}`);
    if ([301, 302, 303, 307, 308].includes(response.status)) {
      const location = response.headers.get("location");
      if (!location) fail(`${response.status} without a Location`);
      current = new URL(location, current);
      if (![307, 308].includes(response.status)) {
        method = "GET";
        body = undefined;
      }
      continue;
    }
    return { url: current, status: response.status, html: await response.text() };
  }
  fail(`too many redirects from ${target}`);
}

const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", "#x27": "'", "#x2F": "/" };
function decode(text) {
  return text.replace(/&(#?\w+);/g, (whole, name) => ENTITIES[name] ?? whole);
}

function attributes(tag) {
  const out = {};
  for (const m of tag.matchAll(/([\w:.-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    out[m[1].toLowerCase()] = decode(m[2] ?? m[3] ?? m[4] ?? "");
  }
  return out;
}

// The page's forms: {id, action, method, inputs: {name: {type, value}}}.
function forms(html) {
  const found = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributes(m[1]);
    const inputs = {};
    for (const input of m[2].matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributes(input[1]);
      if (a.name) inputs[a.name] = { type: (a.type || "text").toLowerCase(), value: a.value ?? "" };
    }
    found.push({ id: attrs.id, action: attrs.action, method: (attrs.method || "get").toUpperCase(), inputs });
  }
  return found;
}

function values(form) {
  return Object.fromEntries(Object.entries(form.inputs).map(([k, v]) => [k, v.value]));
}

function submit(page, form, extra = {}) {
  return navigate(form.method, new URL(form.action || page.url, page.url), { ...values(form), ...extra });
}

function cancelLink(page) {
  const m = page.html.match(/<a href="([^"]*)">\[ Cancel \]<\/a>/);
  if (!m) fail(`no [ Cancel ] link on ${page.url}:\n${page.html}`);
  return new URL(decode(m[1]), page.url);
}

function finish(result) {
  console.log(`result: ${result}`);
  const wanted = cancelAt ? "denied" : "signed-in";
  process.exit(result === wanted ? 0 : 1);
}

const normalize = (code) => code.replace(/[^A-Za-z0-9]/g, "").toUpperCase();

let page = await navigate("GET", url);
let enteredCode = false;
for (let step = 0; step < 20; step += 1) {
  const title = (page.html.match(/<title>([^<]*)<\/title>/i) || [])[1]?.trim() || "";
  const error = page.html.match(/<p class="red">([^<]*)<\/p>/);
  console.log(`  page: ${title}${error ? ` (${error[1]})` : ""}`);
  const all = forms(page.html);
  const byId = (id) => all.find((f) => f.id === id);
  const byPrompt = (prompt) => all.find((f) => f.inputs.prompt?.value === prompt);

  if (title === "Sign-in Success") finish("signed-in");
  if (error) {
    if (/interrupted/i.test(error[1])) finish("denied");
    fail(`the identity provider says: ${error[1]}`);
  }
  if (page.status >= 400) {
    const text = page.html.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();
    if (/access_denied/.test(text)) finish("denied");
    fail(`HTTP ${page.status} at ${page.url}: ${text}`);
  }

  let form;
  if ((form = byId("op.deviceInputForm"))) {
    // The code entry page.
    if (enteredCode) fail("asked for the code again");
    enteredCode = true;
    page = await submit(page, form, { user_code: userCode });
  } else if ((form = byId("op.deviceConfirmForm"))) {
    // "The following code should be displayed on your device".
    const shown = (page.html.match(/<code>([^<]*)<\/code>/) || [])[1] || "";
    if (normalize(shown) !== normalize(userCode)) {
      fail(`the confirmation page shows code ${shown}, not ${userCode}`);
    }
    enteredCode = true;
    page = await submit(page, form, cancelAt === "device" ? { abort: "yes" } : {});
  } else if ((form = byPrompt("login"))) {
    if (cancelAt === "login") page = await navigate("GET", cancelLink(page));
    else page = await submit(page, form, { login, password: "any-password" });
  } else if ((form = byPrompt("consent"))) {
    if (cancelAt === "consent") page = await navigate("GET", cancelLink(page));
    else page = await submit(page, form);
  } else if (all.length === 1 && Object.values(all[0].inputs).every((i) => i.type === "hidden")) {
    // An auto-submitting form (form_post), as a browser with JavaScript would.
    enteredCode ||= "user_code" in all[0].inputs;
    page = await submit(page, all[0]);
  } else {
    fail(`no idea what to do on ${page.url} (${page.status}):\n${page.html}`);
  }
}
fail("too many pages");
