export { migrateCommand } from './commands/migrate.js';
export { type UpOptions, up } from './commands/up.js';
