import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The web page carries its agent token in a cookie the page's script cannot read (HttpOnly), that
 * no other site's request carries (SameSite=Strict), sent only over TLS when the agent has TLS.
 * With TLS the name takes the __Host- prefix, so the browser also refuses one set for a parent
 * domain or another path.
 */
export interface SessionCookie {
  name: string;
  secure: boolean;
}

export function sessionCookie(tls: boolean): SessionCookie {
  return tls ? { name: '__Host-keeper_session', secure: true } : { name: 'keeper_session', secure: false };
}

export function setSessionCookie(reply: FastifyReply, cookie: SessionCookie, token: string, expiresAt: number): void {
  const maxAge = Math.max(0, Math.floor((expiresAt - Date.now()) / 1000));
  void reply.setCookie(cookie.name, token, { httpOnly: true, sameSite: 'strict', secure: cookie.secure, path: '/', maxAge });
}

export function clearSessionCookie(reply: FastifyReply, cookie: SessionCookie): void {
  void reply.clearCookie(cookie.name, { httpOnly: true, sameSite: 'strict', secure: cookie.secure, path: '/' });
}

/**
 * The session cookie's token, parsed here only when asked (a request without an Authorization
 * header): the cookie plugin's parsing hook on every request was work for nothing for callers
 * that carry a bearer token, most of them.
 */
export function cookieToken(request: FastifyRequest, cookie: SessionCookie): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined || header === '') return undefined;
  const value = request.server.parseCookie(header)[cookie.name];
  return value === undefined || value === '' ? undefined : value;
}
