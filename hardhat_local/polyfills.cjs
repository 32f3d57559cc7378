// Preloaded with NODE_OPTIONS=--require <this file> for the js-ipfs CLI (`jsipfs`).
// Some of its dependencies call Promise.withResolvers, which Node only ships from v22.
'use strict'

if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers () {
      let resolve
      let reject
      const promise = new this((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    }
  })
}
