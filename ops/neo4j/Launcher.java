import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.kernel.internal.GraphDatabaseAPI;

/**
 * Runs an embedded Neo4j Community DBMS with a Bolt connector, for machines without Docker.
 *
 * Usage: java -cp CLASSPATH Launcher.java HOME HOST PORT PAGECACHE
 * Optional HOME/neo4j.conf is read for further settings. Prints "READY bolt://host:port" once
 * Bolt accepts connections and shuts the DBMS down cleanly on SIGTERM/SIGINT.
 */
public class Launcher {
    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: Launcher HOME HOST PORT PAGECACHE (e.g. .data/neo4j 127.0.0.1 7687 2g)");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        Files.createDirectories(home);
        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(home);
        Path conf = home.resolve("neo4j.conf");
        if (Files.exists(conf)) {
            builder.loadPropertiesFromFile(conf);
        }
        DatabaseManagementService dbms = builder
            .setConfig(BoltConnector.enabled, true)
            .setConfig(BoltConnector.listen_address, new SocketAddress(args[1], Integer.parseInt(args[2])))
            .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
            .setConfig(GraphDatabaseSettings.auth_enabled, false)
            .setConfig(GraphDatabaseSettings.pagecache_memory, parseBytes(args[3]))
            .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            dbms.shutdown();
            stopped.countDown();
        }));

        GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        ConnectorPortRegister ports = ((GraphDatabaseAPI) db).getDependencyResolver()
            .resolveDependency(ConnectorPortRegister.class);
        var bound = ports.getLocalAddress(ConnectorType.BOLT);
        System.out.println("READY bolt://" + bound.getHost() + ":" + bound.getPort());
        System.out.flush();
        stopped.await();
    }

    private static long parseBytes(String text) {
        String t = text.trim().toLowerCase();
        long unit = 1;
        char last = t.charAt(t.length() - 1);
        if (last == 'k' || last == 'm' || last == 'g') {
            unit = last == 'k' ? 1L << 10 : last == 'm' ? 1L << 20 : 1L << 30;
            t = t.substring(0, t.length() - 1);
        }
        return Long.parseLong(t) * unit;
    }
}
