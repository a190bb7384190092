package org.neurite.examples;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code docs/java-api.md} as a Java team copies it: its first snippet is {@link JavaApiExample}
 * line for line (which {@link JavaApiExampleTest} runs), every class its snippets import exists,
 * and the BOM version its Maven snippet names is this build's.
 */
class JavaApiDocTest {
    private static final Path DOC = Path.of("../docs/java-api.md");
    private static final Path EXAMPLE = Path.of("src/main/java/org/neurite/examples/JavaApiExample.java");

    @Test void theFirstSnippetIsTheExampleLineForLine() throws IOException {
        List<String> snippet = javaBlocks().get(0);
        List<String> docImports = snippet.stream().filter(l -> l.startsWith("import ")).toList();
        List<String> docBody = normalised(snippet.stream().filter(l -> !l.startsWith("import ")).toList());
        List<String> example = Files.readAllLines(EXAMPLE);
        List<String> exampleImports = example.stream().filter(l -> l.startsWith("import ")).toList();
        assertEquals(exampleImports, docImports, "the snippet's imports are the example's");

        // The example takes the script as a parameter; main defaults it to the path the doc shows.
        List<String> body = normalised(example).stream()
                .map(l -> l.replace("Neurite.load(script)", "Neurite.load(Path.of(\"examples/lenet5.nn\"))")).toList();
        assertFalse(docBody.isEmpty());
        assertEquals("}", docBody.get(docBody.size() - 1), "the snippet closes its try block");
        // The example goes on inside the try block (the batch's labels, for its test), so the closing brace is left out.
        int at = Collections.indexOfSubList(body, docBody.subList(0, docBody.size() - 1));
        assertTrue(at >= 0, "the doc's snippet is not JavaApiExample.run line for line:\n" + String.join("\n", docBody));
    }

    @Test void everyImportedClassExists() throws IOException {
        int imports = 0;
        for (List<String> block : javaBlocks()) {
            for (String line : block) {
                if (!line.startsWith("import ")) continue;
                String name = line.substring("import ".length(), line.length() - 1).trim();
                assertDoesNotThrow(() -> Class.forName(name, false, getClass().getClassLoader()), "docs/java-api.md imports " + name);
                imports++;
            }
        }
        assertTrue(imports >= 20, "both snippets list their imports: " + imports);
    }

    @Test void theMavenSnippetNamesThisBuildsBom() throws IOException {
        String doc = Files.readString(DOC);
        Matcher m = Pattern.compile("<artifactId>neurite-bom</artifactId><version>([^<]+)</version>").matcher(doc);
        assertTrue(m.find(), "docs/java-api.md shows the neurite-bom import");
        Matcher own = Pattern.compile("<artifactId>neurite-bom</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(Files.readString(Path.of("../bom/pom.xml")));
        assertTrue(own.find());
        assertEquals(own.group(1), m.group(1), "the BOM version in docs/java-api.md");
    }

    private static List<List<String>> javaBlocks() throws IOException {
        List<List<String>> blocks = new ArrayList<>();
        List<String> current = null;
        for (String line : Files.readAllLines(DOC)) {
            if (current == null && line.equals("```java")) current = new ArrayList<>();
            else if (current != null && line.equals("```")) { blocks.add(current); current = null; }
            else if (current != null) current.add(line);
        }
        assertTrue(blocks.size() >= 2, "docs/java-api.md has its two Java snippets");
        return blocks;
    }

    /** Lines without their indentation, runs of spaces collapsed (comments are aligned differently), blank lines dropped. */
    private static List<String> normalised(List<String> lines) {
        return lines.stream().map(l -> l.strip().replaceAll("\\s+", " ")).filter(l -> !l.isEmpty()).toList();
    }
}
