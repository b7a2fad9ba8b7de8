// A real OpenID Connect provider (node's oidc-provider, pinned in package-lock.json) set up like
// FranceConnect v2 for the tests of cartable.franceconnect: authorization code flow only, one
// confidential client (client_secret_basic), ES256 id_tokens and signed userinfo (application/jwt),
// one scope per claim, acr "eidas1", access tokens of 60 s, codes of 30 s, RP-initiated logout.
//
// Started by the tests (cartable/franceconnect/tests/provider.py) on 127.0.0.1, port chosen by the
// system; the first line printed on stdout is JSON: {"issuer": "http://127.0.0.1:PORT"}.
//
// Environment:
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET  the test client
//   OIDC_REDIRECT_URI                   its redirect_uri (the live server's callback)
//   OIDC_POST_LOGOUT_REDIRECT_URI       its post_logout_redirect_uri
//   OIDC_ACCOUNTS                       JSON {login: {password, given_name, family_name, birthdate, email}}
//   OIDC_SIGNING_ALG                    ES256 (default) or RS256
//
// The login and consent pages are this script's own (oidc-provider's development pages set no acr):
// the login page takes a login and a password, its "Annuler" button answers access_denied.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) {
    throw new Error(`${name} is required`);
  }
  return value;
};

const ACCOUNTS = JSON.parse(env('OIDC_ACCOUNTS', '{}'));
const SIGNING_ALG = env('OIDC_SIGNING_ALG', 'ES256');
const SCOPES = ['openid', 'given_name', 'family_name', 'birthdate', 'email'];

function signingKeys() {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const keys = [
    { ...ec, kid: `es-${randomBytes(6).toString('hex')}`, alg: 'ES256', use: 'sig' },
    { ...rsa, kid: `rs-${randomBytes(6).toString('hex')}`, alg: 'RS256', use: 'sig' },
  ];
  // The client's algorithm first: oidc-provider signs with the first key that fits.
  return keys.sort((a) => (a.alg === SIGNING_ALG ? -1 : 1));
}

const html = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>${html(title)}</title></head>
<body><main><h1>${html(title)}</h1>${body}</main></body></html>`;
}

async function readForm(req) {
  let data = '';
  for await (const chunk of req) {
    data += chunk;
  }
  return new URLSearchParams(data);
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: env('OIDC_CLIENT_ID'),
        client_secret: env('OIDC_CLIENT_SECRET'),
        redirect_uris: [env('OIDC_REDIRECT_URI')],
        post_logout_redirect_uris: [env('OIDC_POST_LOGOUT_REDIRECT_URI')],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: SIGNING_ALG,
        userinfo_signed_response_alg: SIGNING_ALG,
      },
    ],
    jwks: { keys: signingKeys() },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: SCOPES,
    claims: {
      openid: ['sub'],
      acr: null,
      given_name: ['given_name'],
      family_name: ['family_name'],
      birthdate: ['birthdate'],
      email: ['email'],
    },
    acrValues: ['eidas1'],
    routes: {
      authorization: '/authorize',
      token: '/token',
      userinfo: '/userinfo',
      jwks: '/jwks',
      end_session: '/session/end',
    },
    ttl: { AccessToken: 60, AuthorizationCode: 30, IdToken: 60, Session: 1800, Grant: 1800, Interaction: 600 },
    features: {
      devInteractions: { enabled: false },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // FranceConnect ends its session without asking: the confirmation form submits itself.
        logoutSource: async (ctx, form) => {
          ctx.body = page('Déconnexion', `${form}
<button id="logout-yes" type="submit" form="op.logoutForm" name="logout" value="yes">Me déconnecter</button>
<script>document.getElementById('logout-yes').click();</script>`);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page('Déconnecté', '<p>Vous êtes déconnecté.</p>');
        },
      },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: async (ctx, accountId) => {
      if (!(accountId in ACCOUNTS)) {
        return undefined;
      }
      const { password, ...claims } = ACCOUNTS[accountId];
      return { accountId, claims: async () => ({ sub: accountId, ...claims }) };
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Erreur', `<pre>${html(JSON.stringify(out))}</pre>`);
    },
  });

  async function loginPage(req, res, uid, error = '') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(page('Connexion au fournisseur de test', `${error ? `<p role="alert">${html(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
  <label for="login">Identifiant</label> <input id="login" name="login" autocomplete="off">
  <label for="password">Mot de passe</label> <input id="password" name="password" type="password">
  <button type="submit">Se connecter</button>
</form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Annuler</button></form>`));
  }

  async function consentPage(req, res, uid, clientId) {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(page('Autoriser la transmission de vos données', `<p>Service : ${html(clientId)}</p>
<form method="post" action="/interaction/${uid}/confirm"><button type="submit">Continuer</button></form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Annuler</button></form>`));
  }

  async function interaction(req, res) {
    const [, , uid, action] = new URL(req.url, issuer).pathname.split('/');
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) {
      throw new errors.InvalidRequest('interaction mismatch');
    }
    const { prompt, params, session } = details;
    if (req.method === 'GET') {
      return prompt.name === 'login' ? loginPage(req, res, uid) : consentPage(req, res, uid, params.client_id);
    }
    if (action === 'abort') {
      return provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: "L'usager a annulé la connexion.",
      }, { mergeWithLastSubmission: false });
    }
    if (action === 'login') {
      const form = await readForm(req);
      const login = form.get('login') ?? '';
      if (!(login in ACCOUNTS) || ACCOUNTS[login].password !== form.get('password')) {
        res.statusCode = 400;
        return loginPage(req, res, uid, 'Identifiant ou mot de passe incorrect.');
      }
      return provider.interactionFinished(req, res, { login: { accountId: login, acr: 'eidas1' } }, {
        mergeWithLastSubmission: false,
      });
    }
    if (action === 'confirm') {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      if (prompt.details.missingOIDCScope) {
        grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
      }
      if (prompt.details.missingOIDCClaims) {
        grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      }
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    res.statusCode = 404;
    return res.end();
  }

  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url.startsWith('/interaction/')) {
      interaction(req, res).catch((err) => {
        res.statusCode = 400;
        res.end(page('Erreur', html(err.message)));
      });
      return;
    }
    callback(req, res);
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

// The tests stop the provider by closing its standard input (or by a signal).
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
