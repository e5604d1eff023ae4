// The TypeScript MCP SDK (@modelcontextprotocol/sdk, pinned in package.json) as a real client of this server.
// Run by .ci/oauth-clients.sh, which installs the pin outside the repository and links its node_modules here.
//
//   node oauth_client.mjs oauth  MCP_URL MERCHANT   OAuth mode: discovery, registration, sign-in, code exchange,
//                                                   tools/list, create + list, refresh, revoke
//   node oauth_client.mjs token  MCP_URL MERCHANT FILE   OAuth mode: sign in and write the access token to FILE
//   node oauth_client.mjs static MCP_URL             static-token mode (token in $SQUARE_MCP_HTTP_TOKEN): refused
//                                                   without the header, with or without an auth provider; works with it
//
// $EXPECTED_TOOLS (names, one per line) is the registry's tool list. Prints one PASS/FAIL line per check and exits
// 1 when any failed. Tokens are never printed.
import { createHash, randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";

// A loopback address nothing listens on: the person's browser is this script, which stops at this redirect.
const REDIRECT = "http://127.0.0.1:9/ts-client-callback";
const EXPECTED = (process.env.EXPECTED_TOOLS ?? "").split(/\s+/).filter(Boolean).sort();
let failures = 0;

function check(name, ok, detail) {
  console.log(`${ok ? "PASS" : "FAIL"} ${name}: ${detail}`);
  if (!ok) failures += 1;
  return ok;
}

const fingerprint = (token) => createHash("sha256").update(token).digest("hex").slice(0, 8);

/** OAuthClientProvider with everything in memory. `redirectToAuthorization` is the person at the browser: it follows
 * the redirects (/authorize -> this server's consent page -> Square's -> this server's callback -> REDIRECT), approving
 * as `merchant`,
 * and keeps the code the browser lands with. */
class Person {
  constructor(merchant) {
    this.merchant = merchant;
    this.sign_ins = 0;
    this.willing = true;
    this.code = undefined;
    this.saved = [];
  }
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata() {
    return {
      client_name: "typescript sdk check",
      redirect_uris: [REDIRECT],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  state() {
    this.expectedState = randomUUID();
    return this.expectedState;
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info) {
    this.client = info;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(tokens) {
    this.stored = tokens;
    this.saved.push(tokens.access_token);
  }
  saveCodeVerifier(verifier) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  invalidateCredentials(scope) {
    if (scope === "all" || scope === "client") this.client = undefined;
    if (scope === "all" || scope === "tokens") this.stored = undefined;
  }
  async redirectToAuthorization(url) {
    this.sign_ins += 1;
    this.code = undefined;
    if (!this.willing) return; // a person who does not sign in again: no code comes back
    // This server's consent page first; its cookie binds the sign-in to this "browser" until Square sends it back.
    const toConsent = await fetch(url, { redirect: "manual" });
    if (toConsent.status !== 302) throw new Error(`/authorize answered ${toConsent.status}: ${await toConsent.text()}`);
    const ours = new URL(toConsent.headers.get("location"));
    const ourPage = await fetch(ours);
    const ourHtml = await ourPage.text();
    const cookie = (ourPage.headers.get("set-cookie") ?? "").split(";")[0];
    if (ourPage.status !== 200 || !ourHtml.includes("<form") || !cookie) throw new Error("no consent page of ours");
    const ourForm = new URLSearchParams([...ourHtml.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)]
      .map((match) => [match[1], match[2]]));
    ourForm.set("decision", "approve");
    const toSquare = await fetch(`${ours.origin}${ours.pathname}`,
      { method: "POST", body: ourForm, redirect: "manual", headers: { cookie } });
    if (toSquare.status !== 303) throw new Error(`our consent answered ${toSquare.status}`);
    const consent = new URL(toSquare.headers.get("location"));
    const page = await fetch(consent);
    if (page.status !== 200 || !(await page.text()).includes("<form")) throw new Error("no consent form at Square");
    const form = new URLSearchParams(consent.searchParams);
    form.set("merchant_id", this.merchant);
    form.set("decision", "approve");
    const approved = await fetch(`${consent.origin}${consent.pathname}`, { method: "POST", body: form, redirect: "manual" });
    if (approved.status !== 302) throw new Error(`Square's consent answered ${approved.status}`);
    const back = await fetch(approved.headers.get("location"), { redirect: "manual", headers: { cookie } });
    const landed = new URL(back.headers.get("location") ?? "http://invalid/");
    if (back.status !== 302 || `${landed.origin}${landed.pathname}` !== REDIRECT) {
      throw new Error(`the callback answered ${back.status}, not a redirect to the client`);
    }
    if (landed.searchParams.get("state") !== this.expectedState) throw new Error("state mismatch");
    this.code = landed.searchParams.get("code") ?? undefined;
  }
}

/** fetch that remembers "METHOD /path STATUS" of every request the SDK makes (OAuth ones included). */
function recordingFetch(log) {
  return async (url, init) => {
    const response = await fetch(url, init);
    log.push(`${init?.method ?? "GET"} ${new URL(url instanceof Request ? url.url : url).pathname} ${response.status}`);
    return response;
  };
}

async function connect(mcpUrl, options) {
  const client = new Client({ name: "oauth-clients-check", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), options));
  return client;
}

function sameTools(tools) {
  const names = tools.map((tool) => tool.name).sort();
  return EXPECTED.length ? JSON.stringify(names) === JSON.stringify(EXPECTED) : names.length === 16;
}

/** From nothing to a connected client: the first connect is refused (401), the SDK discovers, registers and sends
 * the person to sign in; finishAuth exchanges the code; a second connect works. */
async function signIn(mcpUrl, person, log) {
  const options = { authProvider: person, fetch: recordingFetch(log) };
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), options);
  const client = new Client({ name: "oauth-clients-check", version: "1.0.0" });
  try {
    await client.connect(transport);
    throw new Error("connected without signing in");
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  if (!person.code) throw new Error("the sign-in brought back no code");
  await transport.finishAuth(person.code);
  return connect(mcpUrl, options);
}

async function oauthChecks(mcpUrl, merchant) {
  const person = new Person(merchant);
  const log = [];
  const client = await signIn(mcpUrl, person, log);
  const base = new URL(mcpUrl).origin;
  const steps = ["GET /.well-known/oauth-protected-resource/mcp 200", "GET /.well-known/oauth-authorization-server 200",
    "POST /register 201", "POST /token 200"];
  // finishAuth repeats the two discovery requests before the token request: only the order of first times counts.
  const oauthLog = [...new Set(log.filter((line) => !line.includes(" /mcp ")))];
  check("ts-sign-in", JSON.stringify(oauthLog) === JSON.stringify(steps) && person.sign_ins === 1 && log[0] === "POST /mcp 401",
    `401, then ${oauthLog.join(", ")}; scope "${person.stored?.scope}"`);

  const { tools } = await client.listTools();
  check("ts-tools-list", sameTools(tools), `${tools.length} tools`);

  const made = await client.callTool({ name: "create_customer",
    arguments: { given_name: "Tess", family_name: "Script", email_address: "tess@example.com" } });
  const id = made.structuredContent?.customer?.id;
  check("ts-create-customer", !made.isError && !!id, `made customer ${id}`);
  const listed = await client.callTool({ name: "list_customers", arguments: {} });
  const ids = (listed.structuredContent?.customers ?? []).map((customer) => customer.id);
  check("ts-list-customers", !listed.isError && ids.includes(id), `list_customers sees ${ids.length} customer(s), ${id} among them`);

  // Force a refresh: the stored access token goes bad (as an expired one would), the refresh token stays. The next
  // call gets a 401 and the SDK must refresh with the refresh token, without sending the person to sign in again.
  const before = person.stored;
  person.stored = { ...before, access_token: "invalidated-by-the-check" };
  const seen = log.length;
  const again = await client.callTool({ name: "list_customers", arguments: {} });
  const after = person.stored;
  const refreshed = log.slice(seen);
  check("ts-refresh",
    !again.isError && person.sign_ins === 1 && after.access_token !== before.access_token &&
      after.access_token !== "invalidated-by-the-check" && after.refresh_token !== before.refresh_token &&
      refreshed[0] === "POST /mcp 401" && refreshed.filter((line) => line.startsWith("POST /token")).length === 1 &&
      JSON.stringify(refreshed.slice(-2)) === JSON.stringify(["POST /token 200", "POST /mcp 200"]) &&
      !refreshed.some((line) => line.startsWith("POST /register")),
    `${refreshed.join(", ")}; access token ${fingerprint(before.access_token)} -> ${fingerprint(after.access_token)}`);

  // Sign out. The mcp SDK's revocation handler (Python 2.3) requires a client_secret field even of a public client:
  // sent empty.
  const revoked = await fetch(`${base}/revoke`, { method: "POST", body: new URLSearchParams({
    token: after.refresh_token, client_id: person.client.client_id, client_secret: "" }) });
  const raw = await fetch(mcpUrl, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    headers: { Authorization: `Bearer ${after.access_token}`, "Content-Type": "application/json",
      Accept: "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25" } });
  // The SDK tries to refresh (refused: the sign-in is over) and then to send the person to sign in: they don't.
  person.willing = false;
  let failed;
  try {
    await client.callTool({ name: "list_customers", arguments: {} });
  } catch (error) {
    failed = error;
  }
  check("ts-revoke", revoked.status === 200 && raw.status === 401 && failed instanceof UnauthorizedError && person.sign_ins === 2,
    `/revoke ${revoked.status}; the revoked token gets ${raw.status}; the next call fails: ${failed?.constructor?.name}: ${failed?.message}`);
  await client.close();
}

async function tokenFor(mcpUrl, merchant, file) {
  const person = new Person(merchant);
  const client = await signIn(mcpUrl, person, []);
  await client.close();
  writeFileSync(file, person.stored.access_token, { mode: 0o600 });
  check("ts-token", true, `signed in as ${merchant}; access token written to ${file}`);
}

async function failure(promise) {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error;
  }
}

async function staticChecks(mcpUrl) {
  const token = process.env.SQUARE_MCP_HTTP_TOKEN ?? "";
  const hide = (text) => String(text).replaceAll(token || "\u0000", "***");
  const bare = await failure(connect(mcpUrl, {}));
  check("ts-static-no-header", bare?.code === 401 && /SQUARE_MCP_HTTP_TOKEN/.test(bare?.message),
    `refused: ${hide(bare?.constructor?.name)}: ${hide(bare?.message)}`);

  const client = await connect(mcpUrl, { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const { tools } = await client.listTools();
  check("ts-static-header", sameTools(tools), `with the header: ${tools.length} tools`);
  await client.close();

  // An OAuth-capable client meeting a static-token server: there is nothing to discover, so it must fail with a
  // message that says so, not with "HTTP 404: Invalid OAuth error response" from a guessed /register.
  const person = new Person("MERCHANTSTATIC01");
  const log = [];
  const withProvider = await failure(connect(mcpUrl, { authProvider: person, fetch: recordingFetch(log) }));
  const message = hide(`${withProvider?.constructor?.name}: ${withProvider?.message}`);
  const clear = withProvider !== undefined && person.sign_ins === 0 && !/Invalid OAuth error response/.test(message) &&
    /SQUARE_MCP_HTTP_TOKEN|token/i.test(message);
  check("ts-static-auth-provider", clear, `refused: ${message} [${log.join(", ")}]`);
}

const [command, mcpUrl, ...rest] = process.argv.slice(2);
try {
  if (command === "oauth") await oauthChecks(mcpUrl, rest[0]);
  else if (command === "token") await tokenFor(mcpUrl, rest[0], rest[1]);
  else if (command === "static") await staticChecks(mcpUrl);
  else throw new Error(`unknown command ${command}: oauth | token | static`);
} catch (error) {
  check(`ts-${command}`, false, `${error?.constructor?.name}: ${error?.stack ?? error}`);
}
process.exit(failures ? 1 : 0);
