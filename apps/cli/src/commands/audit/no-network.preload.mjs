// Test preload: any attempt to open a socket, resolve a name or create a UDP socket throws,
// so a command that ran to completion under it provably used no network (and so no database).
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';

const refuse = (what) => () => {
  throw new Error(`NETWORK_FORBIDDEN: ${what} was called during an offline audit command`);
};
net.Socket.prototype.connect = refuse('net.Socket.connect');
net.connect = refuse('net.connect');
net.createConnection = refuse('net.createConnection');
net.Server.prototype.listen = refuse('net.Server.listen');
tls.connect = refuse('tls.connect');
dgram.createSocket = refuse('dgram.createSocket');
dns.lookup = refuse('dns.lookup');
dns.promises.lookup = refuse('dns.promises.lookup');
