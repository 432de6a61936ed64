/**
 * Evaluated in every fresh QuickJS context before the plugin. It takes the two host functions
 * off the global object (the plugin cannot reach them except through ctx), builds a ctx with
 * only the capabilities the action uses, and evaluates to `invoke(plugin, actionId, payload)`.
 * Plain ES5-ish code: QuickJS has no URL, TextEncoder, setTimeout or Buffer.
 */
export const GUEST_PRELUDE = `(function () {
  'use strict';
  var call = globalThis.__rosterCall;
  var settle = globalThis.__rosterSettle;
  delete globalThis.__rosterCall;
  delete globalThis.__rosterSettle;

  function HostError(e) {
    var err = new Error(e.message);
    err.name = 'HostError';
    err.code = e.code;
    err.hostRef = e.ref;
    if (e.details) err.details = e.details;
    return err;
  }
  function host(method, args) {
    return call(method, JSON.stringify(args)).then(function (raw) {
      var r = JSON.parse(raw);
      if (r.ok) return r.value;
      throw HostError(r.error);
    });
  }
  function response(r) {
    var body = r.body;
    return {
      status: r.status,
      headers: r.headers,
      text: function () { return body; },
      json: function () { return JSON.parse(body); }
    };
  }
  var clients = {
    http: function () {
      return {
        fetch: function (url, init) {
          init = init || {};
          var headers = {};
          var given = init.headers || {};
          for (var k in given) if (Object.prototype.hasOwnProperty.call(given, k)) headers[k] = String(given[k]);
          var body = init.body;
          if (init.json !== undefined) {
            body = JSON.stringify(init.json);
            headers['content-type'] = 'application/json';
          }
          return host('http.fetch', {
            url: String(url), method: init.method || 'GET', headers: headers,
            body: body === undefined ? undefined : String(body), timeoutMs: init.timeoutMs
          }).then(response);
        }
      };
    },
    smtp: function () {
      return { send: function (message) { return host('smtp.send', { message: message }); } };
    },
    sql: function () {
      return { query: function (sql, params) { return host('sql.query', { sql: sql, params: params || [] }); } };
    },
    kv: function () {
      return {
        get: function (key) { return host('kv.get', { key: key }); },
        set: function (key, value, options) {
          return host('kv.set', { key: key, value: value, ttlSeconds: options && options.ttlSeconds });
        },
        delete: function (key) { return host('kv.delete', { key: key }); },
        list: function (prefix) { return host('kv.list', { prefix: prefix || '' }); }
      };
    }
  };
  function logger(level) {
    return function (message, fields) {
      var text;
      try { text = JSON.stringify({ level: level, message: String(message), fields: fields }); }
      catch (e) { text = JSON.stringify({ level: level, message: String(message) }); }
      call('log', text);
    };
  }
  function describe(err) {
    if (err && typeof err === 'object') {
      return {
        name: String(err.name || 'Error'),
        message: String(err.message),
        code: typeof err.code === 'string' ? err.code : undefined,
        hostRef: typeof err.hostRef === 'number' ? err.hostRef : undefined
      };
    }
    return { name: 'Error', message: String(err) };
  }
  return function invoke(plugin, actionId, payloadJson) {
    var p = JSON.parse(payloadJson);
    var connector = plugin && plugin.default;
    var actions = connector && connector.actions;
    var action = actions && Object.prototype.hasOwnProperty.call(actions, actionId) ? actions[actionId] : undefined;
    if (!action || typeof action.run !== 'function') {
      settle(false, JSON.stringify({ kind: 'unknown-action' }));
      return;
    }
    var ctx = {
      secrets: Object.freeze(p.secrets),
      idempotencyKey: p.idempotencyKey,
      signal: Object.freeze({ aborted: false }),
      log: Object.freeze({ debug: logger('debug'), info: logger('info'), warn: logger('warn'), error: logger('error') })
    };
    for (var i = 0; i < p.uses.length; i++) {
      if (Object.prototype.hasOwnProperty.call(clients, p.uses[i])) ctx[p.uses[i]] = Object.freeze(clients[p.uses[i]]());
    }
    Object.freeze(ctx);
    new Promise(function (resolve) { resolve(action.run(ctx, p.input)); }).then(
      function (out) {
        var json;
        try { json = JSON.stringify(out === undefined ? null : out); }
        catch (e) { settle(false, JSON.stringify({ kind: 'output', error: describe(e) })); return; }
        settle(true, json);
      },
      function (err) { settle(false, JSON.stringify({ kind: 'throw', error: describe(err) })); }
    );
  };
})()`;
