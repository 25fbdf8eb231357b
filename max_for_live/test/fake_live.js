// A fake LiveAPI: paths map to objects with properties, children counts and calls.
"use strict";

function makeFakeLive(tree) {
  const calls = [];
  function makeApi(path) {
    const node = tree[path];
    return {
      id: node ? 1 : 0,
      path,
      get(prop) {
        const v = node[prop];
        return Array.isArray(v) ? v : [v];
      },
      getcount(child) {
        return node[child];
      },
      call(name, ...args) {
        calls.push({ path, name, args });
        const fn = node[name];
        return typeof fn === "function" ? fn(...args) : undefined;
      },
    };
  }
  return { makeApi, calls };
}

module.exports = { makeFakeLive };
