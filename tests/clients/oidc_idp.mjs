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
const { default: Provider } = await import(
  pathToFileURL(path.join(packageDir, "lib/index.js")).href
);

const RESOURCE = "urn:palisade:admin-api";
const OTHER_RESOURCE = "urn:someone-else:api";
const AUDIENCES = { [RESOURCE]: "palisade", [OTHER_RESOURCE]: "someone-else" };

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

// A fresh signing key per run; its public half is served at jwks_uri.
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), use: "sig", alg: "RS256" };

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: Object.keys(PERSONAS).map((id) => ({
    client_id: id,
    client_secret: `${id}-secret`,
    grant_types: ["client_credentials"],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: "client_secret_basic",
  })),
  jwks: { keys: [signingKey] },
  scopes: ["palisade"],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => RESOURCE,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resourceIndicator) => {
        const audience = AUDIENCES[resourceIndicator];
        if (!audience) throw new Provider.errors.InvalidTarget();
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
  extraTokenClaims: async (_ctx, token) => PERSONAS[token.clientId],
});
provider.on("server_error", (_ctx, err) => console.error("server_error", err));

const server = provider.listen(port, "127.0.0.1", () => {
  console.log(`listening ${issuer}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
