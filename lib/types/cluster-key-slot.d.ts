// The package ships no types: one CommonJS function (CRC16 of the key's hash tag, mod 16384).
declare module 'cluster-key-slot' {
  function calculateSlot(key: string | Buffer): number;
  export default calculateSlot;
}
