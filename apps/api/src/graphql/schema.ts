import 'reflect-metadata';
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchemaSync } from 'type-graphql';
import { ApiKeyResolver } from './resolvers/api-key-resolver.js';
import { AuditResolver } from './resolvers/audit-resolver.js';
import { EmailTriggerResolver } from './resolvers/email-trigger-resolver.js';
import {
  ErasureResolver,
  ReviewTaskPersonalDataResolver,
  RunPersonalDataResolver,
  StepRunPersonalDataResolver,
} from './resolvers/erasure-resolver.js';
import { GovernancePolicyResolver } from './resolvers/governance-policy-resolver.js';
import { IdentityResolver } from './resolvers/identity-resolver.js';
import { InferenceResolver } from './resolvers/inference-resolver.js';
import { InstallationResolver } from './resolvers/installation-resolver.js';
import { NodeResolver } from './resolvers/node-resolver.js';
import { PluginCatalogResolver } from './resolvers/plugin-catalog-resolver.js';
import { ReviewResolver } from './resolvers/review-resolver.js';
import { RunFlowResolver } from './resolvers/run-flow-resolver.js';
import { RunInitiatorResolver, RunResolver } from './resolvers/run-resolver.js';
import { TenantResolver } from './resolvers/tenant-resolver.js';
import { TriggerResolver } from './resolvers/trigger-resolver.js';
import { WorkflowResolver } from './resolvers/workflow-resolver.js';
import { Tenant } from './types/tenant.js';
import { Workflow } from './types/workflow.js';

let schema: GraphQLSchema | undefined;

/** The schema, generated from the resolver classes once per process. */
export function apiSchema(): GraphQLSchema {
  schema ??= buildSchemaSync({
    resolvers: [
      IdentityResolver,
      TenantResolver,
      ApiKeyResolver,
      WorkflowResolver,
      RunResolver,
      RunInitiatorResolver,
      RunFlowResolver,
      TriggerResolver,
      NodeResolver,
      AuditResolver,
      InferenceResolver,
      PluginCatalogResolver,
      InstallationResolver,
      EmailTriggerResolver,
      GovernancePolicyResolver,
      ReviewResolver,
      ErasureResolver,
      RunPersonalDataResolver,
      StepRunPersonalDataResolver,
      ReviewTaskPersonalDataResolver,
    ],
    orphanedTypes: [Tenant, Workflow],
    // Inputs are checked by the services with messages that name the field; no class-validator.
    validate: false,
  });
  return schema;
}

/** The SDL as committed in apps/api/schema.graphql (sorted, so diffs are stable). */
export function printApiSchema(): string {
  return `${printSchema(lexicographicSortSchema(apiSchema()))}\n`;
}
