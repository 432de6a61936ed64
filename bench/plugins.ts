// bench:plugins — sandboxed invocations of a small connector action (one host http.fetch to a
// local server) beside the same action called directly in Node; see runPluginsBench.
import { runPluginsBench } from '@roster/plugin-host';

const report = await runPluginsBench();
process.stdout.write(`${JSON.stringify(report)}\n`);
