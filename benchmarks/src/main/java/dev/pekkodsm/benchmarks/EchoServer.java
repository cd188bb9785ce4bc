package dev.pekkodsm.benchmarks;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The floor of a tcp round trip on loopback, which the tcp transport's operations are compared
 * with: one plain thread per connection, blocking reads of fixed-size requests shaped like the tcp
 * transport's (an 8-byte word, then the request id at offset 8), each answered with one write of a
 * 16-byte header (the request's id, status 0, the payload's length) and a payload preallocated per
 * connection. Nothing is parsed, checked or looked up.
 */
final class EchoServer implements AutoCloseable {

  static final int HEADER_BYTES = 16;

  private final ServerSocket server;
  private final int requestBytes;
  private final byte[] payload;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  private EchoServer(ServerSocket server, int requestBytes, byte[] payload) {
    this.server = server;
    this.requestBytes = requestBytes;
    this.payload = payload;
  }

  /** Starts a server answering requests of {@code requestBytes} with {@code payload}. */
  static EchoServer start(int requestBytes, byte[] payload) throws IOException {
    ServerSocket socket = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
    EchoServer echo = new EchoServer(socket, requestBytes, payload.clone());
    Thread acceptor = new Thread(echo::acceptAll, "echo-floor-accept");
    acceptor.setDaemon(true);
    acceptor.start();
    return echo;
  }

  InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  /** A connection of one benchmark thread, with its buffers. */
  Client connect() throws IOException {
    return new Client(this);
  }

  private void acceptAll() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        socket.setTcpNoDelay(true);
        sockets.add(socket);
        Thread thread = new Thread(() -> serve(socket), "echo-floor-" + sockets.size());
        thread.setDaemon(true);
        thread.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void serve(Socket socket) {
    byte[] request = new byte[requestBytes];
    byte[] reply = new byte[HEADER_BYTES + payload.length];
    ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 0).putInt(12, payload.length);
    System.arraycopy(payload, 0, reply, HEADER_BYTES, payload.length);
    try (socket) {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      while (in.readNBytes(request, 0, requestBytes) == requestBytes) {
        System.arraycopy(request, 8, reply, 0, 8); // the request's id
        out.write(reply);
      }
    } catch (IOException e) {
      // the client went away: the connection's thread ends
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket socket : sockets) {
      socket.close();
    }
  }

  /** One blocking connection to the echo server. */
  static final class Client implements AutoCloseable {
    private final Socket socket = new Socket();
    private final InputStream in;
    private final OutputStream out;
    private final byte[] request;
    private final ByteBuffer requestView;
    private final byte[] reply;
    private final ByteBuffer replyView;
    private long nextId;

    private Client(EchoServer server) throws IOException {
      socket.setTcpNoDelay(true);
      socket.connect(server.address());
      in = socket.getInputStream();
      out = socket.getOutputStream();
      request = new byte[server.requestBytes];
      requestView = ByteBuffer.wrap(request).order(ByteOrder.LITTLE_ENDIAN);
      reply = new byte[HEADER_BYTES + server.payload.length];
      replyView = ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Sends one request and reads its whole reply into {@link #reply()}; returns the payload's
     * length.
     */
    int call() throws IOException {
      requestView.putLong(8, ++nextId);
      out.write(request);
      int need = HEADER_BYTES;
      int got = 0;
      boolean headerSeen = false;
      while (got < need) {
        int n = in.read(reply, got, reply.length - got);
        if (n < 0) {
          throw new EOFException("the echo server closed the connection");
        }
        got += n;
        if (!headerSeen && got >= HEADER_BYTES) {
          headerSeen = true;
          need = HEADER_BYTES + replyView.getInt(12);
        }
      }
      if (replyView.getLong(0) != nextId) {
        throw new IllegalStateException("the echo answered another request");
      }
      return need - HEADER_BYTES;
    }

    /** The last reply: the header, then the payload. */
    byte[] reply() {
      return reply;
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
