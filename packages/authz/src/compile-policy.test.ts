import { describe, expect, it } from 'vitest';
import { member, TENANT } from '../test/records.js';
import {
  AuthzError,
  abilityFor,
  compilePolicy,
  loadPolicyFile,
  PolicyInvalidError,
  type PolicyIssue,
  subjectRecord,
} from './index.js';

const SCOPES = `scopes:
  runs:read:
    description: Read runs.
    rules: [{ action: read, subject: Run }]
`;

function roleYaml(rules: string, description = 'A role under test.'): string {
  return `version: 1\nroles:\n  tester:\n    description: ${description}\n    rules: ${rules}\n${SCOPES}`;
}

function issuesOf(yaml: string): PolicyIssue[] {
  try {
    compilePolicy(yaml);
  } catch (e) {
    if (e instanceof PolicyInvalidError) return [...e.issues];
    throw e;
  }
  throw new Error('expected the policy to be rejected');
}

describe('compilePolicy validation', () => {
  it.each([
    [
      'an unknown action',
      '[{ action: destroy, subject: Workflow }]',
      'roles.tester.rules[0].action',
      /unknown action "destroy"/,
    ],
    [
      'an action the subject does not take',
      '[{ action: decide, subject: Workflow }]',
      'roles.tester.rules[0].action',
      /"decide" does not apply to Workflow; Workflow takes create, read/,
    ],
    [
      'an unknown subject',
      '[{ action: read, subject: Workflows }]',
      'roles.tester.rules[0].subject',
      /unknown subject "Workflows"/,
    ],
    [
      'an unknown rule key',
      '[{ action: read, subject: Run, when: x }]',
      'roles.tester.rules[0].when',
      /unknown key/,
    ],
    [
      'an unknown placeholder',
      `[{ action: update, subject: Workflow, conditions: { createdBy: "\${actor.id}" } }]`,
      'roles.tester.rules[0].conditions.createdBy',
      /unknown placeholder \$\{actor.id\}/,
    ],
    [
      'a list placeholder used as a value',
      `[{ action: read, subject: ReviewTask, conditions: { queue: "\${actor.reviewQueues}" } }]`,
      'roles.tester.rules[0].conditions.queue',
      /use it under \$in or \$nin/,
    ],
    [
      'an unsupported operator',
      '[{ action: read, subject: Run, conditions: { attempts: { $gt: 3 } } }]',
      'roles.tester.rules[0].conditions.attempts',
      /one operator of \$eq, \$ne, \$in, \$nin/,
    ],
    [
      'a hand-written tenant condition',
      '[{ action: read, subject: Run, conditions: { tenantId: other } }]',
      'roles.tester.rules[0].conditions.tenantId',
      /added automatically/,
    ],
    [
      'a nested field path',
      '[{ action: read, subject: Run, conditions: { "input.kind": x } }]',
      'roles.tester.rules[0].conditions.input.kind',
      /plain field name/,
    ],
    [
      'an empty field list',
      '[{ action: read, subject: Member, fields: [] }]',
      'roles.tester.rules[0].fields',
      /non-empty list/,
    ],
    [
      'a non-boolean inverted',
      '[{ action: read, subject: Run, inverted: yes please }]',
      'roles.tester.rules[0].inverted',
      /true or false/,
    ],
    ['no rules', '[]', 'roles.tester.rules', /non-empty list of rules/],
  ])('names the path of %s', (_what, rules, path, message) => {
    const issues = issuesOf(roleYaml(rules));
    expect(issues).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('reports every problem at once', () => {
    const issues = issuesOf(
      roleYaml(
        '[{ action: read, subject: Run }, { action: fly, subject: Run }, { action: read, subject: Moon }]',
      ),
    );
    expect(issues.map((i) => i.path)).toEqual([
      'roles.tester.rules[1].action',
      'roles.tester.rules[2].subject',
    ]);
  });

  it('rejects a multi-line description, a bad version and unknown top-level keys', () => {
    const yaml = roleYaml('[{ action: read, subject: Run }]', '"two\\nlines"').replace(
      'version: 1',
      'version: 2\nextras: true',
    );
    const paths = issuesOf(yaml).map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(['version', 'extras', 'roles.tester.description']),
    );
  });

  it('rejects scopes that deny and badly named scopes', () => {
    const yaml = `version: 1
roles:
  tester: { description: A role., rules: [{ action: read, subject: Run }] }
scopes:
  runs:read: { description: Read runs., rules: [{ action: read, subject: Run, inverted: true }] }
  RunsEverything: { description: Bad name., rules: [{ action: read, subject: Run }] }
`;
    const paths = issuesOf(yaml).map((i) => i.path);
    expect(paths).toEqual(['scopes.runs:read.rules[0].inverted', 'scopes.RunsEverything']);
  });

  it('explains YAML syntax errors and duplicate keys with a line number', () => {
    expect(() => compilePolicy('version: 1\nroles: [unclosed\n')).toThrow(
      expect.objectContaining({
        code: 'POLICY_YAML_SYNTAX',
        message: expect.stringMatching(/line \d+/),
      }),
    );
    expect(() => compilePolicy('version: 1\nversion: 1\n')).toThrow(
      expect.objectContaining({ code: 'POLICY_YAML_SYNTAX' }),
    );
  });

  it('reports an unreadable policy file with its path', async () => {
    await expect(loadPolicyFile('/nonexistent/roles.yaml')).rejects.toMatchObject({
      code: 'POLICY_FILE_UNREADABLE',
      details: { path: '/nonexistent/roles.yaml' },
    });
    await expect(loadPolicyFile('/nonexistent/roles.yaml')).rejects.toBeInstanceOf(AuthzError);
  });
});

describe('compilePolicy output', () => {
  it(`accepts an explicit \${tenant.id} condition and scopes every rule to the tenant`, () => {
    const policy = compilePolicy(
      roleYaml(
        `[{ action: read, subject: Run, conditions: { tenantId: "\${tenant.id}" } }, { action: read, subject: Workflow }]`,
      ),
    );
    const ability = abilityFor(policy, member('tester'));
    for (const subject of ['Run', 'Workflow'] as const) {
      expect(ability.can('read', subjectRecord(subject, { tenantId: TENANT }))).toBe(true);
      expect(ability.can('read', subjectRecord(subject, { tenantId: 'elsewhere' }))).toBe(false);
    }
  });

  it('expands `all` to the subjects that declare the action', () => {
    const ability = abilityFor(
      compilePolicy(roleYaml('[{ action: verify, subject: all }]')),
      member('tester'),
    );
    expect(ability.can('verify', subjectRecord('AuditExport', { tenantId: TENANT }))).toBe(true);
    expect(ability.can('read', 'AuditExport')).toBe(false);
  });
});
