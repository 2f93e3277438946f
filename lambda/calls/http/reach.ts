import { parseAllowedHosts } from '../../config.ts';

/**
 * Where the webhook may go. The code in the URL grants its user's rights, so it is sent only to the host the
 * operator configured, or, after a renamed portal's redirect, to a Bitrix24 cloud host or one the operator
 * allows. Addresses inside the machine or its network never qualify: in Lambda, 169.254.169.254 and the
 * Runtime API on 127.0.0.1:9001 are one request away. Loopback (the sandbox) only in the explicit local mode.
 */
export interface Reach {
  /** http:// and loopback hosts are allowed (the local sandbox): B24_LOCAL_MODE=1 or the option; never in Lambda. */
  localMode: boolean;
  /** Hosts (or `*.suffix`) besides the cloud zones a redirect may lead to. */
  allowedHosts: readonly string[];
}

/** Bitrix24's cloud zones: a portal is `<name>.bitrix24.<zone>`. */
export const BITRIX24_ZONES = [
  'com',
  'ru',
  'de',
  'eu',
  'es',
  'fr',
  'it',
  'pl',
  'uk',
  'by',
  'kz',
  'ua',
  'in',
  'br',
  'jp',
  'cn',
  'tr',
  'id',
  'vn',
  'mx',
  'co',
  'com.br',
  'com.tr',
] as const;

const CLOUD_HOST = new RegExp(`^([a-z0-9-]+\\.)+bitrix24\\.(${BITRIX24_ZONES.map((z) => z.replace('.', '\\.')).join('|')})$`);

/**
 * The reach of a client: the options win over the environment (B24_LOCAL_MODE, B24_ALLOWED_HOSTS), and inside
 * a Lambda (AWS_LAMBDA_FUNCTION_NAME is set) local mode is off whatever either says.
 */
export function reachFrom(opts: { localMode?: boolean; allowedHosts?: readonly string[] }, env: NodeJS.ProcessEnv = process.env): Reach {
  const inLambda = Boolean(env.AWS_LAMBDA_FUNCTION_NAME);
  const asked = opts.localMode ?? /^(1|true)$/i.test(env.B24_LOCAL_MODE ?? '');
  return { localMode: asked && !inLambda, allowedHosts: opts.allowedHosts ?? parseAllowedHosts(env.B24_ALLOWED_HOSTS) };
}

/** What a URL's host is, for the rules above. */
export type HostKind = 'name' | 'ip' | 'loopback' | 'private' | 'link-local' | 'unspecified';

/** Classifies a WHATWG URL hostname (IPv4 already normalised to dotted decimal, IPv6 in brackets). Pure. */
export function hostKind(hostname: string): HostKind {
  const h = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return 'loopback';
  const v4 = ipv4(h);
  if (v4) return ipv4Kind(v4);
  if (h.includes(':')) return ipv6Kind(h);
  return 'name';
}

/** Why the webhook URL's own host must not be used, or undefined. */
export function webhookHostProblem(url: URL, reach: Reach): string | undefined {
  const kind = hostKind(url.hostname);
  if (kind === 'link-local') return 'points to a link-local address (169.254.0.0/16, fe80::/10: cloud metadata), not a portal';
  if (kind === 'private') return 'points to a private network address (10/8, 172.16/12, 192.168/16, fc00::/7), not a portal';
  if (kind === 'unspecified') return 'points to an unspecified address (0.0.0.0, ::), not a portal';
  if (kind === 'loopback' && !reach.localMode) {
    return 'points to a loopback address: only the local sandbox runs there, and only in local mode (B24_LOCAL_MODE=1, never in Lambda)';
  }
  if (kind === 'ip' && !reach.localMode) return 'is an IP address: a portal is named by its host name';
  if (url.protocol === 'http:' && !(kind === 'loopback' && reach.localMode)) {
    return 'uses plain http://; Bitrix24 portals require https:// (http is only for the local sandbox on loopback, in local mode)';
  }
  return undefined;
}

/** Why a redirect from `from` to `to` must not be followed, or undefined. */
export function redirectProblem(from: URL, to: URL, reach: Reach): string | undefined {
  if (to.protocol !== 'https:' && to.protocol !== 'http:') return 'not an http(s) address';
  if (from.protocol === 'https:' && to.protocol === 'http:') return 'a downgrade from https to http';
  if (to.username || to.password) return 'an address with credentials';
  const own = webhookHostProblem(to, reach);
  if (own) return `it ${own}`;
  if (to.host === from.host || isAllowedName(to.hostname, reach)) return undefined;
  if (reach.localMode && hostKind(to.hostname) === 'loopback') return undefined;
  return 'neither a Bitrix24 cloud portal nor a host in allowedHosts';
}

/** A Bitrix24 cloud portal, or a name the operator allows (exactly, or under `*.suffix`). */
export function isAllowedName(hostname: string, reach: Reach): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  if (hostKind(h) !== 'name') return false;
  if (CLOUD_HOST.test(h)) return true;
  return reach.allowedHosts.some((a) => (a.startsWith('*.') ? h.endsWith(a.slice(1)) : h === a));
}

function ipv4(h: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  const parts = m?.slice(1).map(Number);
  return parts?.every((p) => p <= 255) ? parts : undefined;
}

function ipv4Kind([a, b]: number[]): HostKind {
  if (a === 127) return 'loopback';
  if (a === 0) return 'unspecified';
  if (a === 169 && b === 254) return 'link-local';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)) return 'private';
  return 'ip';
}

function ipv6Kind(h: string): HostKind {
  const words = ipv6Words(h);
  if (!words) return 'ip';
  if (words.every((w) => w === 0)) return 'unspecified';
  if (words.slice(0, 7).every((w) => w === 0) && words[7] === 1) return 'loopback';
  // ::ffff:a.b.c.d (IPv4-mapped) reaches the IPv4 address.
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return ipv4Kind([words[6] >> 8, words[6] & 0xff, words[7] >> 8, words[7] & 0xff]);
  }
  if ((words[0] & 0xffc0) === 0xfe80) return 'link-local';
  if ((words[0] & 0xfe00) === 0xfc00) return 'private';
  return 'ip';
}

/** The eight 16-bit words of an IPv6 address as the URL parser prints it (compressed, hex, no dotted tail). */
function ipv6Words(h: string): number[] | undefined {
  const [head, tail, extra] = h.split('::');
  if (extra !== undefined) return undefined;
  const parse = (s: string | undefined) => (s ? s.split(':').map((w) => Number.parseInt(w, 16)) : []);
  const a = parse(head);
  const b = parse(tail);
  const fill = tail === undefined ? 0 : 8 - a.length - b.length;
  const words = [...a, ...Array(Math.max(0, fill)).fill(0), ...b];
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : undefined;
}
