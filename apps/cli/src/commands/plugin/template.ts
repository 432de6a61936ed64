// The files `roster plugin init` writes: a manifest-ready connector, one action, a connection
// with a test action, a harness test against a local server, package.json and README.

export interface TemplateInput {
  /** Connector id, e.g. `acme-crm`. */
  readonly id: string;
  readonly name: string;
}

export function templateFiles({ id, name }: TemplateInput): Record<string, string> {
  return {
    'package.json': `${JSON.stringify(
      {
        name: `roster-plugin-${id}`,
        version: '0.1.0',
        private: true,
        type: 'module',
        exports: { '.': './src/index.ts' },
        scripts: { test: 'roster plugin test .', pack: 'roster plugin pack .' },
        dependencies: { '@roster/plugin-sdk': '*', zod: '4.6.7' },
        devDependencies: { vitest: '4.1.12' },
      },
      null,
      2,
    )}\n`,
    'README.md': `# ${name}

A Roster connector plugin.

- \`src/index.ts\`: the manifest (\`defineConnector\`): id, version, capabilities, connection, actions.
- \`src/connection.ts\`: what a tenant enters, and which action tests it.
- \`src/actions/*.ts\`: one file per action: its input/output schemas and its \`run\`.
- \`src/transport.ts\`: the only file that does IO (through \`ctx.http\`).

\`\`\`sh
roster plugin test .                      # runs the vitest tests (SDK harness, local server)
roster plugin keygen --publisher you      # once: your publisher key pair
roster plugin pack . --key you.key.json   # bundle, manifest.json, integrity, signature
roster plugin verify dist/${id}-0.1.0.roster-plugin.json --trust you.pub.json
\`\`\`
`,
    'src/index.ts': `import { defineConnector } from '@roster/plugin-sdk';
import { getItem } from './actions/get-item.js';
import { testConnection } from './actions/test-connection.js';
import { connection } from './connection.js';

export default defineConnector({
  id: '${id}',
  name: '${name.replaceAll("'", "\\'")}',
  version: '0.1.0',
  description: 'Reads items from the ${name.replaceAll("'", "\\'")} API.',
  capabilities: { http: { hosts: ['api.example.com'] } },
  connection,
  actions: { getItem, testConnection },
});
`,
    'src/connection.ts': `import type { ConnectionDefinition } from '@roster/plugin-sdk';
import { z } from 'zod';

export const connection = {
  description: 'An API token for api.example.com.',
  schema: z.object({ token: z.string().min(1) }),
  test: 'testConnection',
} satisfies ConnectionDefinition;
`,
    'src/transport.ts': `// The one place this plugin does network IO.
import type { ActionContext } from '@roster/plugin-sdk';

export async function getJson<T>(ctx: ActionContext<'http'>, path: string): Promise<T> {
  const response = await ctx.http.fetch(\`https://api.example.com\${path}\`, {
    headers: { authorization: \`Bearer \${ctx.secrets.token}\`, 'idempotency-key': ctx.idempotencyKey },
  });
  if (response.status >= 400) {
    const error = new Error(\`api.example.com answered \${response.status}\`) as Error & { code: string };
    error.code = \`HTTP_\${response.status}\`;
    throw error;
  }
  return response.json<T>();
}
`,
    'src/actions/get-item.ts': `import { defineAction } from '@roster/plugin-sdk';
import { z } from 'zod';
import { getJson } from '../transport.js';

export const getItem = defineAction({
  title: 'Get an item',
  uses: ['http'],
  input: z.object({ id: z.string().min(1) }),
  output: z.object({ id: z.string(), name: z.string() }),
  async run(ctx, input) {
    const item = await getJson<{ id: string; name: string }>(ctx, \`/items/\${encodeURIComponent(input.id)}\`);
    return { id: item.id, name: item.name };
  },
});
`,
    'src/actions/test-connection.ts': `import { defineAction } from '@roster/plugin-sdk';
import { z } from 'zod';
import { getJson } from '../transport.js';

export const testConnection = defineAction({
  title: 'Test connection',
  uses: ['http'],
  input: z.object({}),
  output: z.object({ ok: z.boolean() }),
  async run(ctx) {
    await getJson(ctx, '/me');
    return { ok: true };
  },
});
`,
    'src/plugin.test.ts': `import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runAction } from '@roster/plugin-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import connector from './index.js';

// A local stand-in for api.example.com; the harness maps the declared host to it.
const server = createServer((req, res) => {
  if (req.headers.authorization !== 'Bearer t0k') {
    res.statusCode = 401;
    return res.end('{}');
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(req.url === '/me' ? { id: 'me' } : { id: req.url?.split('/').pop(), name: 'Widget' }));
});
let hosts: Record<string, string>;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hosts = { 'api.example.com': \`http://127.0.0.1:\${(server.address() as AddressInfo).port}\` };
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('${id}', () => {
  it('gets an item', async () => {
    const { output } = await runAction(connector, 'getItem', { id: 'w1' }, { connection: { token: 't0k' }, hosts });
    expect(output).toEqual({ id: 'w1', name: 'Widget' });
  });

  it('tests the connection: a bad token fails', async () => {
    await expect(runAction(connector, 'testConnection', {}, { connection: { token: 't0k' }, hosts })).resolves.toMatchObject({ output: { ok: true } });
    await expect(runAction(connector, 'testConnection', {}, { connection: { token: 'bad' }, hosts })).rejects.toMatchObject({ code: 'HTTP_401' });
  });
});
`,
  };
}
