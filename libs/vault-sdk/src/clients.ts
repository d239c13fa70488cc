/** One client per connection name, made on first use and closed when the connection changes or the service stops. */
export class ConnectionClients<C extends { close(): Promise<void> }, Conn extends { name: string } = { name: string }> {
  private readonly clients = new Map<string, C>();

  constructor(private readonly create: (connection: Conn) => C) {}

  get(connection: Conn): C {
    let client = this.clients.get(connection.name);
    if (!client) {
      client = this.create(connection);
      this.clients.set(connection.name, client);
    }
    return client;
  }

  async drop(name: string): Promise<void> {
    const client = this.clients.get(name);
    this.clients.delete(name);
    await client?.close();
  }

  async closeAll(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
