"""The networked runtime: the spec's pure transitions behind real sockets (ARCHITECTURE.md, driver 4).

config.py  cluster.toml: parameters, hosts, ports, public keys; per-party private key files
codec.py   length-prefixed msgpack frames, Ed25519 on every frame and every spec signature,
           sealed shares encrypted to their aggregator (X25519 + ChaCha20-Poly1305)
store.py   the durable store: inbound log and write-once registers (sqlite, WAL, synchronous=FULL)
node.py    one party as an asyncio process: correct aggregator, client, or Byzantine aggregator
proxy.py   a loopback proxy that delays, drops and reorders frames
cluster.py spawn a cluster on loopback, kill -9 and restart parties, collect the outcome
trace.py   merge the parties' logs into one schedule, replay it through `spec.world.step`
"""
