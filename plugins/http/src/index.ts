import { defineConnector } from '@roster/plugin-sdk';
import { request } from './actions/request.js';
import { testConnection } from './actions/test-connection.js';
import { connection } from './connection.js';

export default defineConnector({
  id: 'http',
  name: 'HTTP',
  version: '1.0.0',
  description: 'Calls any REST API under the base URL the tenant enters.',
  capabilities: { http: { hosts: [], hostsFromConnection: ['baseUrl'] } },
  connection,
  actions: { request, testConnection },
});
