export * from './identity.js';
export * from './runs.js';
export * from './tenancy.js';
export * from './workflows.js';
