import { defineConnector } from '@roster/plugin-sdk';
import { openChannel } from './actions/open-channel.js';
import { postMessage } from './actions/post-message.js';
import { testConnection } from './actions/test-connection.js';
import { connection } from './connection.js';

export default defineConnector({
  id: 'slack',
  name: 'Slack',
  version: '1.0.0',
  description: 'Posts messages and opens conversations through the Slack Web API.',
  capabilities: { http: { hosts: ['slack.com'], hostsFromConnection: ['baseUrl'] } },
  connection,
  actions: { postMessage, openChannel, testConnection },
});
