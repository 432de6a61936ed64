import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import type { Pool } from '@roster/db';
import { EngineError, type EngineOptions, startRun } from '@roster/engine';
import { parseEmail } from '@roster/inference';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';

/** Largest message accepted, in bytes (SIZE extension; larger ones get 552). */
export const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
/** Body text kept in a run's input; the rest of a long message is cut. */
const MAX_TEXT_CHARS = 100_000;

export interface InboundEmailOptions {
  /** The runtime role's pool (roster_app). */
  pool: Pool;
  /** 0 picks a free port (tests). */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  maxMessageBytes?: number;
  engine?: EngineOptions;
  /** Called when a message could not start its runs (the sender gets a 451 and retries). */
  onError?: (err: unknown) => void;
}

export interface InboundEmail {
  port: number;
  close(): Promise<void>;
}

/** The input of a run started by an e-mail. */
export interface EmailRunInput {
  from: string;
  /** The trigger address the message was delivered to. */
  to: string;
  subject: string;
  text: string;
  messageId: string | null;
  receivedAt: string;
}

interface Accepted {
  tenantId: string;
  triggerId: string;
  workflowId: string;
  to: string;
}

/** Where a recipient address leads: the enabled trigger its local part names, in any tenant. */
async function lookUp(pool: Pool, address: string): Promise<Accepted | null> {
  const at = address.lastIndexOf('@');
  const local = (at < 0 ? address : address.slice(0, at)).toLowerCase();
  // The function is SECURITY DEFINER (roster_engine): the tenant is unknown until it answers.
  const { rows } = await pool.query<{ tenant_id: string; trigger_id: string; workflow_id: string }>(
    'SELECT tenant_id, trigger_id, workflow_id FROM roster_engine_email_trigger($1)',
    [local],
  );
  const row = rows[0];
  return row
    ? {
        tenantId: row.tenant_id,
        triggerId: row.trigger_id,
        workflowId: row.workflow_id,
        to: address,
      }
    : null;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The Message-ID header's value, unfolded ('' when absent). */
function messageIdOf(raw: Buffer): string {
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, headEnd < 0 ? raw.length : headEnd).toString('latin1');
  const m = /^message-id:[ \t]*((?:.*)(?:\r?\n[ \t].*)*)/im.exec(head);
  return m?.[1] ? m[1].replace(/\r?\n[ \t]+/g, ' ').trim() : '';
}

/**
 * Starts one run per accepted recipient. The idempotency key is the trigger and the Message-ID
 * (else the message's hash), so a redelivered message returns the first run and starts nothing.
 */
export async function deliverEmail(
  pool: Pool,
  recipients: Accepted[],
  raw: Buffer,
  envelopeFrom: string,
  options: EngineOptions = {},
): Promise<{ runId: string; created: boolean }[]> {
  const parsed = parseEmail(raw, { maxTextChars: MAX_TEXT_CHARS });
  const messageId = messageIdOf(raw);
  const key = createHash('sha256')
    .update(messageId ? `id:${messageId}` : raw)
    .digest('hex');
  const receivedAt = new Date().toISOString();
  const results: { runId: string; created: boolean }[] = [];
  for (const r of recipients) {
    const input: EmailRunInput = {
      from: parsed.from || envelopeFrom,
      to: r.to,
      subject: parsed.subject,
      text: parsed.text,
      messageId: messageId || null,
      receivedAt,
    };
    try {
      const run = await startRun(
        pool,
        r.tenantId,
        {
          workflowId: r.workflowId,
          input,
          idempotencyKey: `email:${r.triggerId}:${key}`,
          startedBy: { kind: 'emailTrigger', id: r.triggerId },
        },
        options,
      );
      results.push({ runId: run.runId, created: run.created });
    } catch (err) {
      // A redelivery differs in receivedAt: the key's first run stands, nothing new starts.
      const runId = err instanceof EngineError ? err.details?.runId : undefined;
      if (err instanceof EngineError && err.code === 'CONFLICT' && typeof runId === 'string') {
        results.push({ runId, created: false });
        continue;
      }
      throw err;
    }
  }
  return results;
}

/**
 * Listens for SMTP and starts the workflow bound to each recipient address. RCPT TO an unknown
 * or disabled address gets 550; a message over the size limit gets 552. No AUTH, no STARTTLS:
 * run it behind an MTA or on a private network.
 */
export async function startInboundEmail(options: InboundEmailOptions): Promise<InboundEmail> {
  const { pool } = options;
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const accepted = new Map<string, Accepted[]>();
  const report = options.onError ?? (() => {});

  const server = new SMTPServer({
    name: 'roster',
    banner: 'Roster inbound mail',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: maxBytes,
    logger: false,
    onMailFrom(_address, session, callback) {
      // A new transaction (also after RSET) starts with no recipients.
      accepted.delete(session.id);
      callback();
    },
    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback) {
      lookUp(pool, address.address).then(
        (found) => {
          if (!found) {
            callback(smtpError(550, `5.1.1 <${address.address}>: no such mailbox`));
            return;
          }
          const list = accepted.get(session.id) ?? [];
          list.push(found);
          accepted.set(session.id, list);
          callback();
        },
        (err: unknown) => {
          report(err);
          callback(smtpError(451, '4.3.0 Temporary failure: try again later'));
        },
      );
    },
    onData(stream, session, callback) {
      // One message per DATA: the recipients accepted for it are taken now.
      const recipients = (accepted.get(session.id) ?? []).filter((a) =>
        session.envelope.rcptTo.some((r) => r.address === a.to),
      );
      accepted.delete(session.id);
      readAll(stream)
        .then(async (raw) => {
          if (stream.sizeExceeded) {
            callback(smtpError(552, `5.3.4 Message exceeds the ${maxBytes} byte limit`));
            return;
          }
          const mailFrom = session.envelope.mailFrom;
          await deliverEmail(
            pool,
            recipients,
            raw,
            mailFrom ? mailFrom.address : '',
            options.engine,
          );
          callback();
        })
        .catch((err: unknown) => {
          report(err);
          callback(smtpError(451, '4.3.0 Temporary failure: try again later'));
        });
    },
    onClose(session) {
      accepted.delete(session.id);
    },
  });
  server.on('error', report);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
