// Bench workers report to their runner in JSON lines on stdout, one object per line.

/** Calls `onMessage(object)` for every JSON line `stream` carries. */
export function onJsonLines(stream, onMessage) {
  let buf = '';
  stream.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) onMessage(JSON.parse(line));
    }
  });
}
