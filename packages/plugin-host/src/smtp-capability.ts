import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { SmtpMessage } from '@roster/plugin-sdk';
import nodemailer from 'nodemailer';
import { createEgressPolicy, type EgressPolicy } from './egress-policy.js';
import { PluginHostError } from './errors.js';
import type { HostCallInfo, SmtpCapability } from './host-bridge.js';
import type { Resolver } from './http-egress.js';

/** Where one call's mail goes (usually read from the connection the call runs under). */
export interface SmtpServer {
  readonly host: string;
  readonly port: number;
  /** TLS from the first byte (port 465). Default false: STARTTLS when the server offers it. */
  readonly secure?: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
}

export interface SmtpCapabilityOptions {
  /** The SMTP server for a call, e.g. looked up by `call.connectionId`. */
  readonly serverFor: (call: HostCallInfo) => SmtpServer | Promise<SmtpServer>;
  /** Default: blocks every non-public address (the operator allow-list opens local relays). */
  readonly policy?: EgressPolicy;
  /** Default: the system resolver. */
  readonly resolve?: Resolver;
  /** to + cc. Default 50. */
  readonly maxRecipients?: number;
  /** text + html + subject, in UTF-16 code units. Default 1 MiB. */
  readonly maxMessageChars?: number;
  /** Connection and per-command timeout. Default 10 000 ms. */
  readonly timeoutMs?: number;
}

// Plugins may set tracing and threading headers, never routing ones (Bcc, Sender, Received...).
const ALLOWED_HEADER = /^(x-[a-z0-9-]+|reply-to|in-reply-to|references)$/i;

const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

function refuse(message: string, details?: Record<string, unknown>): never {
  throw new PluginHostError('FORBIDDEN', message, details);
}

function addresses(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((a) => typeof a !== 'string' || /[\r\n]/.test(a))) {
    refuse(`smtp.send ${field} must be a list of e-mail addresses.`);
  }
  return value as string[];
}

/** smtp.send through nodemailer, to the server the call's connection names, egress-checked. */
export function createSmtpCapability(options: SmtpCapabilityOptions): SmtpCapability {
  const policy = options.policy ?? createEgressPolicy();
  const resolve = options.resolve ?? systemResolver;
  const maxRecipients = options.maxRecipients ?? 50;
  const maxChars = options.maxMessageChars ?? 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 10_000;

  return {
    async send(message: SmtpMessage, call: HostCallInfo) {
      if (typeof message !== 'object' || message === null) refuse('smtp.send needs a message.');
      const to = addresses(message.to, 'to');
      const cc = addresses(message.cc, 'cc');
      if (to.length === 0) refuse('smtp.send needs at least one "to" address.');
      if (to.length + cc.length > maxRecipients) {
        refuse(`smtp.send allows at most ${maxRecipients} recipients per message.`);
      }
      if (typeof message.from !== 'string' || typeof message.subject !== 'string') {
        refuse('smtp.send needs "from" and "subject" strings.');
      }
      const size =
        message.subject.length + (message.text?.length ?? 0) + (message.html?.length ?? 0);
      if (size > maxChars) refuse(`The message is larger than ${maxChars} characters.`);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) {
        if (!ALLOWED_HEADER.test(name)) {
          refuse(
            `Header "${name}" may not be set by a plugin (X-*, Reply-To, In-Reply-To, References only).`,
          );
        }
        headers[name] = String(value);
      }

      const server = await options.serverFor(call);
      const host = server.host.replace(/^\[|\]$/g, '');
      const resolved = isIP(host) !== 0 ? [host] : await resolve(host).catch(() => []);
      if (resolved.length === 0) {
        throw new PluginHostError('SMTP_FAILED', `SMTP host "${host}" does not resolve.`, { host });
      }
      for (const address of resolved) {
        const verdict = policy.checkAddress(host, address);
        if (!verdict.allowed) {
          throw new PluginHostError(
            'EGRESS_DENIED',
            `SMTP host "${host}" is not reachable from plugins: ${verdict.reason}. An operator can allow it.`,
            { host, address },
          );
        }
      }
      // Connect to the checked address (no second lookup); TLS still checks the real name.
      const transport = nodemailer.createTransport({
        host: resolved[0],
        port: server.port,
        secure: server.secure ?? false,
        ...(server.auth ? { auth: { user: server.auth.user, pass: server.auth.pass } } : {}),
        tls: { servername: isIP(host) === 0 ? host : undefined },
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
      });
      try {
        const info = await transport.sendMail({
          from: message.from,
          to,
          ...(cc.length > 0 ? { cc } : {}),
          subject: message.subject,
          ...(message.text === undefined ? {} : { text: message.text }),
          ...(message.html === undefined ? {} : { html: message.html }),
          headers: { ...headers, 'X-Roster-Idempotency-Key': call.idempotencyKey },
        });
        return {
          messageId: String(info.messageId),
          accepted: (info.accepted as unknown[]).map((a) =>
            typeof a === 'string' ? a : String((a as { address?: string }).address),
          ),
        };
      } catch (error) {
        throw new PluginHostError(
          'SMTP_FAILED',
          `Sending through ${host}:${server.port} failed: ${(error as Error).message}`,
          {
            host,
            port: server.port,
            responseCode: (error as { responseCode?: number }).responseCode,
          },
          { cause: error },
        );
      } finally {
        transport.close();
      }
    },
  };
}
