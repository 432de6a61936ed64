// `pluginId.actionId` patterns of the policy (`stripe.refund`, `stripe.*`, `*.delete*`); a bare
// plugin id (`mailer`) covers all of that plugin's actions.

function toRegExp(pattern: string): RegExp {
  const full = pattern.includes('.') ? pattern : `${pattern}.*`;
  const body = full
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/** Whether `plugin.action` matches `pattern`. */
export function actionMatches(pattern: string, pluginId: string, actionId: string): boolean {
  return toRegExp(pattern).test(`${pluginId}.${actionId}`);
}
