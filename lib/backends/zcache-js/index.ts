// The pure-JS zcache backend module ('zcache-js').
export { createZcacheJs, type ZcacheJsOptions } from './backend';
