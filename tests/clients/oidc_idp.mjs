// A small but real OpenID Connect identity provider (the `oidc-provider` npm
// package) for the Palisade end-to-end tests of human sign-in.
//
// usage: node oidc_idp.mjs PORT
// Serves issuer http://127.0.0.1:PORT (discovery, JWKS, token endpoint, ...)
// and prints "listening <issuer>" once it accepts connections.
// oidc-provider is loaded from $OIDC_PROVIDER_DIR (node_modules/oidc-provider),
// else from ../peers/node_modules/oidc-provider next to this script.
//
// Tokens without a browser: the client_credentials grant, with the resource
// indicator RESOURCE (audience "palisade") or OTHER_RESOURCE (audience
// "someone-else"), both issuing RS256-signed JWT access tokens. Each client
// is a test persona (client secret "<client id>-secret"); the claims in
// PERSONAS are added to its tokens (sub is the client id).
//
//   curl -u alice-admins:alice-admins-secret http://127.0.0.1:PORT/token \
//     -d grant_type=client_credentials -d resource=urn:palisade:admin-api -d scope=palisade
//
// People, for `palisade login`: the public client CLI_CLIENT ("palisade-cli",
// no secret) may use the device authorization grant (RFC 8628) and the
// authorization code grant with PKCE. The user's side runs on oidc-provider's
// development interactions: the device page (/device), a login form taking any
// login name with any password, and a consent form, each with a "[ Cancel ]"
// link that denies access (tests/clients/oidc_browser.mjs plays the browser).
// The accounts in USERS get `email` and `groups` claims in their ID tokens
// (scopes `email` and `groups`); any other login is an account with only a
// `sub`. The device authorization answer says `interval: DEVICE_INTERVAL` (1 s,
// instead of RFC 8628's default 5 s) so tests don't wait long.
//
// An Auth0-like API for the MCP OAuth walkthrough (SEED-CASES S9): the
// resource indicator MCP_API (audience MCP_API, as Auth0 names an API by its
// identifier) with the scopes files:read and files:delete. The clients in
// MCP_PERSONAS are granted only their own share of those scopes (a request
// for more gets what the persona may have, like an Auth0 client grant) and
// carry the namespaced roles claim "https://mcp-demo/roles" of a post-login
// Action. The JWKS is also served at Auth0's path /.well-known/jwks.json.
//
//   curl -u mcp-reader:mcp-reader-secret http://127.0.0.1:PORT/token \
//     -d grant_type=client_credentials -d resource=https://mcp-demo/api \
//     -d "scope=files:read files:delete"      # -> scope "files:read"
import { generateKeyPairSync } from "node:crypto";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: node oidc_idp.mjs PORT");
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const packageDir =
  process.env.OIDC_PROVIDER_DIR || path.join(here, "../peers/node_modules/oidc-provider");
const { default: Provider, errors } = await import(
  pathToFileURL(path.join(packageDir, "lib/index.js")).href
);

const RESOURCE = "urn:palisade:admin-api";
const OTHER_RESOURCE = "urn:someone-else:api";
const MCP_API = "https://mcp-demo/api";
const AUDIENCES = { [RESOURCE]: "palisade", [OTHER_RESOURCE]: "someone-else" };

const CLI_CLIENT = "palisade-cli";
const DEVICE_INTERVAL = 1;

// Sign-in accounts: login name -> claims (sub is the login name).
const USERS = {
  alice: { email: "alice@example.com", email_verified: true, name: "Alice Admin", groups: ["admins"] },
  rita: { email: "rita@example.com", email_verified: true, name: "Rita Reader", groups: ["readers"] },
  walt: { email: "walt@example.com", email_verified: true, name: "Walt Writer", groups: ["writers"] },
  nobody: { email: "nobody@example.com", email_verified: true, name: "No Body", groups: ["guests"] },
};

const PERSONAS = {
  "alice-admins": { email: "alice@example.com", groups: ["admins"] },
  "rita-readers": { email: "rita@example.com", groups: ["readers"] },
  // The capitalised claim, as some providers (Azure AD, ...) spell it.
  "walt-writers": { email: "walt@example.com", Groups: ["writers"] },
  // Authenticated, but no group the role mapping knows.
  nobody: { email: "nobody@example.com", groups: ["guests"] },
  // No groups claim at all, and no email: the user is named by sub.
  bare: {},
};

// MCP API clients: the scopes each is granted and the claims added to its tokens.
const ROLES = "https://mcp-demo/roles";
const MCP_PERSONAS = {
  // Authenticated, nothing more: no scope claim, no roles.
  "mcp-plain": { scope: "", claims: {} },
  "mcp-reader": { scope: "files:read", claims: {} },
  "mcp-admin-deleter": { scope: "files:read files:delete", claims: { [ROLES]: ["admin"] } },
  // The admin role without any scope.
  "mcp-admin": { scope: "", claims: { [ROLES]: ["admin"] } },
};

// A fresh signing key per run; its public half is served at jwks_uri.
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), use: "sig", alg: "RS256" };

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [
    ...[...Object.keys(PERSONAS), ...Object.keys(MCP_PERSONAS)].map((id) => ({
      client_id: id,
      client_secret: `${id}-secret`,
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: "client_secret_basic",
    })),
    {
      client_id: CLI_CLIENT,
      client_name: "Palisade CLI",
      application_type: "native",
      token_endpoint_auth_method: "none",
      grant_types: [
        "urn:ietf:params:oauth:grant-type:device_code",
        "authorization_code",
        "refresh_token",
      ],
      response_types: ["code"],
      redirect_uris: ["http://127.0.0.1/callback"],
    },
  ],
  jwks: { keys: [signingKey] },
  scopes: ["openid", "offline_access", "palisade", "files:read", "files:delete"],
  // Scope -> claims; `groups` is a scope of its own, as with Dex or Okta.
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name"],
    groups: ["groups"],
  },
  // The claims of the granted scopes go into the ID token too (not only to
  // the userinfo endpoint): Palisade reads `groups` from the bearer ID token.
  conformIdTokenClaims: false,
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, ...(USERS[id] || {}) }),
  }),
  features: {
    // The login and consent pages, for any login name (a test IdP).
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // People's sign-in asks for no resource: their access tokens are for
      // the userinfo endpoint, and Palisade takes their ID tokens.
      defaultResource: async (_ctx, client) =>
        client?.clientId === CLI_CLIENT ? undefined : RESOURCE,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resourceIndicator, client) => {
        if (resourceIndicator === MCP_API) {
          // Only the MCP personas have a grant for this API.
          const persona = MCP_PERSONAS[client?.clientId];
          if (!persona) throw new errors.InvalidTarget();
          return {
            scope: persona.scope,
            audience: MCP_API,
            accessTokenFormat: "jwt",
            accessTokenTTL: 600,
            jwt: { sign: { alg: "RS256" } },
          };
        }
        const audience = AUDIENCES[resourceIndicator];
        if (!audience) throw new errors.InvalidTarget();
        return {
          scope: "palisade",
          audience,
          accessTokenFormat: "jwt",
          accessTokenTTL: 600,
          jwt: { sign: { alg: "RS256" } },
        };
      },
    },
  },
  extraTokenClaims: async (_ctx, token) =>
    PERSONAS[token.clientId] || MCP_PERSONAS[token.clientId]?.claims,
});
provider.on("server_error", (_ctx, err) => console.error("server_error", err));

// Auth0's JWKS path, next to oidc-provider's own (/jwks, named in discovery).
provider.use(async (ctx, next) => {
  if (ctx.method === "GET" && ctx.path === "/.well-known/jwks.json") {
    ctx.path = "/jwks";
  }
  await next();
});

// The device authorization answer names a polling interval (RFC 8628 section
// 3.2; without it clients wait 5 s between polls).
provider.use(async (ctx, next) => {
  await next();
  const body = ctx.body;
  if (ctx.method === "POST" && body && typeof body === "object" && body.device_code && body.user_code) {
    body.interval = DEVICE_INTERVAL;
  }
});

const server = provider.listen(port, "127.0.0.1", () => {
  console.log(`listening ${issuer}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
