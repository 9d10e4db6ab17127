// The pure-JS zcache backend module ('zcache-js').
export { createZcacheJs } from './backend';
