// The provincial government service network's OpenID provider, as the tests play it: the
// certified npm `oidc-provider` on a loopback port, so the hub's sign-in crosses a real socket.
//
//   node tests/oidc/provider.mjs PORT REDIRECT_URI[,REDIRECT_URI...]
//
// Clients: OIDC_CLIENT_ID / OIDC_CLIENT_SECRET (the hub) and OIDC_OTHER_CLIENT_ID /
// OIDC_OTHER_CLIENT_SECRET (another relying party, whose codes the hub must not accept), both
// redirecting to those URIs, authorization code with PKCE (S256) required. Accounts: the login
// name is the company's unified social credit code (any password), returned as the claim `uscc`
// with a `name` under the scope `uscc`; a login starting with `no-uscc` gets no `uscc` claim.
// OIDC_NAMES (JSON, code -> name) names the companies. Keys: a fresh RSA key (RS256) per start.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, redirectUri] = process.argv.slice(2);
if (!port || !redirectUri) {
  console.error('usage: provider.mjs PORT REDIRECT_URI');
  process.exit(2);
}
const names = JSON.parse(process.env.OIDC_NAMES || '{}');
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const key = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };

function client(id, secret) {
  return {
    client_id: id,
    client_secret: secret,
    redirect_uris: redirectUri.split(','),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  };
}

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    client(process.env.OIDC_CLIENT_ID, process.env.OIDC_CLIENT_SECRET),
    client(process.env.OIDC_OTHER_CLIENT_ID, process.env.OIDC_OTHER_CLIENT_SECRET),
  ],
  pkce: { methods: ['S256'], required: () => true },
  scopes: ['openid', 'uscc'],
  claims: { openid: ['sub'], uscc: ['uscc', 'name'] },
  conformIdTokenClaims: false, // the claims in the ID token, which the hub verifies
  features: { devInteractions: { enabled: true } },
  jwks: { keys: [key] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        if (id.startsWith('no-uscc')) return { sub: id, name: names[id] ?? id };
        return { sub: id, uscc: id, name: names[id] ?? id };
      },
    };
  },
});
provider.listen(Number(port), '127.0.0.1', () => console.log(`listening on ${port}`));
