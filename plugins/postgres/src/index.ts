import { defineConnector } from '@roster/plugin-sdk';
import { query } from './actions/query.js';
import { testConnection } from './actions/test-connection.js';
import { connection } from './connection.js';

export default defineConnector({
  id: 'postgres',
  name: 'PostgreSQL',
  version: '1.0.0',
  description: "Runs parameterised queries against a tenant's own Postgres database.",
  capabilities: { sql: { purpose: "Query the tenant's database named in the connection" } },
  connection,
  actions: { query, testConnection },
});
