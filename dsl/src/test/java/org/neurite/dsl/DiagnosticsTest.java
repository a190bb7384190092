package org.neurite.dsl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.diag.ModelException;

/**
 * The table of malformed scripts and the exact diagnostics they produce, rendered as the CLI
 * prints them: headline, source line, caret. A one-line expectation checks the headline only
 * (used where the source line is too long to be worth spelling out).
 */
class DiagnosticsTest {
    private static final String MODEL = """
            model M {
                input x: [4]
                output o = dense(2)
            }
            """;

    /** A grey 28 x 28 image model, for train sections with {@code augment}. */
    private static final String IMAGE_MODEL = """
            model M {
                input x: [1, 28, 28]
                output o = flatten -> dense(2)
            }
            """;

    static Stream<Arguments> cases() {
        return Stream.of(
            // ---- layers and their arguments ----
            row("unknown layer", """
                    model M {
                        input x: [1, 28, 28]
                        c1 = conv3d(6, kernel=5)
                        output y = flatten
                    }
                    """, """
                    t.nn:3:10: error: unknown layer 'conv3d'; did you mean 'conv'?
                            c1 = conv3d(6, kernel=5)
                                 ^~~~~~
                    """),
            row("misspelt parameter", """
                    model M {
                        input x: [1, 28, 28]
                        c1 = conv(6, kernal=5)
                        output y = flatten
                    }
                    """, """
                    t.nn:3:18: error: unknown parameter 'kernal' for 'conv'; did you mean 'kernel'?
                            c1 = conv(6, kernal=5)
                                         ^~~~~~
                    """),
            row("wrong argument type", """
                    model M {
                        input x: [1, 28, 28]
                        c1 = conv(6, kernel="five")
                        output y = flatten
                    }
                    """, """
                    t.nn:3:25: error: conv: parameter 'kernel' expects int or [int, ...], got string "five"
                            c1 = conv(6, kernel="five")
                                                ^~~~~~
                    """),
            row("float where an int is expected", """
                    model M {
                        input x: [4]
                        output o = dense(7 / 2)
                    }
                    """, """
                    t.nn:3:22: error: dense: parameter 'units' expects int, got float 3.5
                            output o = dense(7 / 2)
                                             ^~~~~
                    """),
            row("int too large for the parameter", """
                    model M {
                        input x: [4]
                        output o = dense(3000000000)
                    }
                    """, "t.nn:3:22: error: dense: parameter 'units' is 3000000000, larger than the largest int, 2147483647"),
            row("int too small in a list", """
                    model M {
                        input x: [1, 28, 28]
                        output o = conv(6, kernel=[3, -5000000000])
                    }
                    """, "t.nn:3:31: error: conv: parameter 'kernel' is -5000000000, smaller than the smallest int, -2147483648"),
            row("argument out of range", """
                    model M {
                        input x: [1, 28, 28]
                        c1 = conv(0, kernel=5)
                        output y = flatten
                    }
                    """, """
                    t.nn:3:15: error: conv: parameter 'channels' must be >= 1, got 0
                            c1 = conv(0, kernel=5)
                                      ^
                    """),
            row("missing required argument", """
                    model M {
                        input x: [1, 28, 28]
                        c1 = conv(6)
                        output y = flatten
                    }
                    """, """
                    t.nn:3:10: error: conv: missing required parameter 'kernel'
                            c1 = conv(6)
                                 ^~~~
                    """),
            row("arguments to a layer that takes none", """
                    model M {
                        input x: [1, 28, 28]
                        c1 = relu(3)
                        output y = flatten
                    }
                    """, "t.nn:3:15: error: 'relu' takes no arguments"),
            row("parameter given twice", """
                    model M {
                        input x: [4]
                        output o = dense(2) -> dense(2, bias=true, bias=false)
                    }
                    """, """
                    t.nn:3:48: error: dense: parameter 'bias' given twice
                            output o = dense(2) -> dense(2, bias=true, bias=false)
                                                                       ^~~~
                    t.nn:3:37: note: first given here
                            output o = dense(2) -> dense(2, bias=true, bias=false)
                                                            ^~~~
                    """),
            row("positional after named", """
                    model M {
                        input x: [4]
                        output o = dense(bias=false, 2)
                    }
                    """, "t.nn:3:34: error: positional argument after a named argument"),
            // ---- shapes ----
            row("shape mismatch", """
                    model M {
                        input x: [784]
                        output y = conv(6, kernel=5)
                    }
                    """, """
                    t.nn:3:16: error: conv: expects [channels, height, width] per sample, got [784]
                            output y = conv(6, kernel=5)
                                       ^~~~~~~~~~~~~~~~~
                    """),
            row("kernel larger than the image", """
                    model M {
                        input x: [1, 4, 4]
                        output y = conv(6, kernel=5)
                    }
                    """, "t.nn:3:16: error: conv: output would be empty: padded input 4x4 is smaller than the dilated kernel 5x5"),
            row("input dimension zero", """
                    model M {
                        input x: [4, 0]
                        output o = dense(2)
                    }
                    """, """
                    t.nn:2:18: error: input dimension must be a positive int, got int 0
                            input x: [4, 0]
                                         ^
                    """),
            row("input shape not a list", """
                    model M {
                        input x: 4
                        output o = dense(2)
                    }
                    """, "t.nn:2:14: error: input shape must be a list of positive ints such as [1, 28, 28], got int"),
            // ---- names and values ----
            row("undefined name", """
                    model M {
                        input x: [4]
                        y = relu(z)
                        output o = dense(2)
                    }
                    """, """
                    t.nn:3:14: error: undefined name 'z'; did you mean 'x'?
                            y = relu(z)
                                     ^
                    """),
            row("undefined value at the head of a chain", """
                    model M {
                        input image: [4]
                        h1 = dense(3)
                        h2 = h3 -> relu
                        output o = dense(2)
                    }
                    """, "t.nn:4:10: error: unknown layer or value 'h3'; did you mean 'h1'?"),
            row("duplicate name", """
                    model M {
                        input x: [4]
                        h = dense(3)
                        h = dense(3)
                        output o = dense(2)
                    }
                    """, """
                    t.nn:4:5: error: duplicate name 'h'
                            h = dense(3)
                            ^
                    t.nn:3:5: note: 'h' is first defined here
                            h = dense(3)
                            ^
                    """),
            row("value name clashing with a model parameter", """
                    model M(c = 2) {
                        input c: [4]
                        output o = dense(2)
                    }
                    """, """
                    t.nn:2:11: error: duplicate name 'c'
                            input c: [4]
                                  ^
                    t.nn:1:9: note: 'c' is first defined here
                        model M(c = 2) {
                                ^~~~~
                    """),
            row("value used as a number", """
                    model M {
                        input x: [4]
                        output o = dense(2, bias=x)
                    }
                    """, "t.nn:3:30: error: 'x' is a value, not a number; a value can start a chain or be a layer's leading positional argument"),
            row("value in the middle of a chain", """
                    model M {
                        input x: [4]
                        output o = x -> relu -> x
                    }
                    """, "t.nn:3:29: error: 'x' is a value, not a layer; only the first step of a chain can name a value, without parentheses"),
            row("model parameter without default", """
                    model M(c) {
                        input x: [4]
                        output o = dense(c)
                    }
                    """, "t.nn:1:9: error: model parameter 'c' needs a default value, e.g. 'c = 10'"),
            row("missing output", """
                    model M {
                        input x: [4]
                        h = dense(3)
                    }
                    """, """
                    t.nn:1:7: error: model 'M' has no output; mark one with 'output <name> = ...'
                        model M {
                              ^
                    """),
            row("missing input", """
                    model M {
                        h = dense(3)
                        output o = dense(2)
                    }
                    """, "t.nn:1:7: error: model 'M' has no input; declare one, e.g. 'input x: [1, 28, 28]'"),
            row("statement before the first input", """
                    model M {
                        h = relu
                        input x: [4]
                        output o = dense(2)
                    }
                    """, "t.nn:2:9: error: 'relu' has no input: no value is defined before this statement (declare 'input x: [...]' first)"),
            // ---- arithmetic and literals ----
            row("division by zero", """
                    model M {
                        input x: [4]
                        output o = dense(2 / 0)
                    }
                    """, """
                    t.nn:3:24: error: division by zero
                            output o = dense(2 / 0)
                                               ^
                    """),
            row("arithmetic on a string", """
                    model M {
                        input x: [4]
                        output o = dense(2, bias="yes" + 1)
                    }
                    """, "t.nn:3:36: error: cannot apply '+' to string and int"),
            row("lines ended by a carriage return alone are lines",
                    "model M {\r    input x: [4]\r    output o = dense(2) -> foo\r}\r", """
                    t.nn:3:28: error: unknown layer 'foo'
                            output o = dense(2) -> foo
                                                   ^~~
                    """),
            row("float literal too large", """
                    model M {
                        input x: [4]
                        output o = dense(2) -> dropout(1e999)
                    }
                    """, "t.nn:3:36: error: number 1e999 is too large"),
            row("float literal too small to be anything but 0", """
                    model M {
                        input x: [4]
                        output o = dense(2) -> dropout(0.5e-999)
                    }
                    """, """
                    t.nn:3:36: error: number 0.5e-999 is too small (it would be 0; the smallest is 4.9E-324)
                            output o = dense(2) -> dropout(0.5e-999)
                                                           ^~~~~~~~
                    """),
            row("integer literal too large", """
                    model M {
                        input x: [4]
                        output o = dense(99999999999999999999)
                    }
                    """, "t.nn:3:22: error: integer 99999999999999999999 is too large (the limit is 9223372036854775807)"),
            row("unknown string escape", """
                    model M {
                        input x: [4]
                        output o = dense(2, init="a\\qb")
                    }
                    """, """
                    t.nn:3:32: error: unknown escape '\\q' in string (use \\" \\\\ \\n or \\t)
                            output o = dense(2, init="a\\qb")
                                                       ^~
                    """),
            // ---- syntax ----
            row("unclosed brace", """
                    model M {
                        input x: [1, 28, 28]
                        output y = flatten
                    """, """
                    t.nn:1:9: error: unclosed '{' (the file ends before its closing '}')
                        model M {
                                ^
                    """),
            row("unclosed brace before the next model", """
                    model M {
                        input x: [4]
                        output o = dense(2)

                    model N {
                        input x: [4]
                        output o = dense(2)
                    }
                    """, "t.nn:1:9: error: unclosed '{' (a new 'model' starts at line 5 before the closing '}')"),
            row("unclosed parenthesis", """
                    model M {
                        input x: [1, 28, 28]
                        output y = dense(10
                    """, """
                    t.nn:3:21: error: unclosed '(' (the file ends before its closing ')')
                            output y = dense(10
                                            ^
                    """),
            row("missing expression", """
                    model M {
                        input x: [1, 28, 28]
                        c1 = conv(6, kernel=)
                        output y = flatten
                    }
                    """, """
                    t.nn:3:25: error: mismatched input ')'. Expecting: <expression>
                            c1 = conv(6, kernel=)
                                                ^
                    """),
            row("brace inside a call", """
                    model M {
                        input x: [1, 28, 28]
                        output y = dense(10 }
                    """, "t.nn:3:25: error: mismatched input '}'. Expecting: ')'"),
            row("arrow without a step", "model M { input x: [2]; output o = dense(2) -> }",
                    "t.nn:1:48: error: mismatched input '}'. Expecting: '(', <identifier>"),
            row("misspelt keyword", """
                    modle M {
                    }
                    """, """
                    t.nn:1:1: error: mismatched input 'modle'. Expecting: 'model', 'block', 'train', 'use'; did you mean 'model'?
                        modle M {
                        ^~~~~
                    """),
            row("output without a name", """
                    model M {
                        input x: [4]
                        output = dense(2)
                    }
                    """, "t.nn:3:12: error: mismatched input '='. Expecting: <identifier>"),
            row("input without a colon", """
                    model M {
                        input x [4]
                    }
                    """, "t.nn:2:13: error: mismatched input '['. Expecting: ':'"),
            row("stray closing parenthesis", "model M { input x: [2]; output o = relu ) }",
                    "t.nn:1:41: error: mismatched input ')'. Expecting: <expression>, 'input', 'output', 'return', '}'"),
            row("extra closing brace", "model M { input x: [2]; output o = relu }}",
                    "t.nn:1:42: error: mismatched input '}'. Expecting: 'model', 'block', 'train', 'use'"),
            row("unterminated string", """
                    model M {
                        input x: [4]
                        output o = dense(2, init="he)
                    }
                    """, """
                    t.nn:3:30: error: unterminated string (a string ends on the line it starts)
                            output o = dense(2, init="he)
                                                     ^~~~
                    """),
            row("unexpected character", """
                    model M {
                        input x: [4] @
                        output o = dense(2)
                    }
                    """, """
                    t.nn:2:18: error: unexpected character '@'
                            input x: [4] @
                                         ^
                    """),
            row("deeply nested parentheses", "model M {\n    input x: [4]\n    output o = dense("
                    + "(".repeat(10_000) + "2" + ")".repeat(10_000) + ")\n}\n",
                    "t.nn:3:84: error: brackets are nested too deeply (more than 64 levels)"),
            row("very long expression", "model M {\n    input x: [4]\n    output o = dense(" + "1+".repeat(10_000) + "2)\n}\n",
                    "t.nn:3:22: error: expression is nested too deeply (more than 200 levels)"),
            row("long run of signs", "model M {\n    input x: [4]\n    output o = dense(" + "-".repeat(10_000) + "2)\n}\n",
                    "t.nn:3:86: error: too many signs in a row (more than 64)"),
            // ---- whole files ----
            row("empty file", "", "t.nn:1:1: error: no model defined"),
            row("only comments", "# nothing here yet\n\n", """
                    t.nn:1:1: error: no model defined
                        # nothing here yet
                        ^
                    """),
            row("train section without a model", "train M { batch = 3 }\n", "t.nn:1:1: error: no model defined"),
            row("NUL bytes", "model M {\n\tinput x: [4]\u0000\u0001\n}\n", """
                    t.nn:2:14: error: file contains a NUL byte; this is binary data, not a .nn script
                         input x: [4]??
                                     ^
                    """),
            row("control character", "model M {\n    input x: [4]\u0007\n}\n",
                    "t.nn:2:17: error: unexpected control character U+0007"),
            row("duplicate model", MODEL + MODEL, """
                    t.nn:5:7: error: duplicate model 'M'
                        model M {
                              ^
                    t.nn:1:7: note: 'M' is first defined here
                        model M {
                              ^
                    """),
            row("one error from each model", """
                    model A {
                        input x: [4]
                        output o = dense(0)
                    }
                    model B {
                        input x: [4]
                        output o = flatten(1)
                    }
                    """, """
                    t.nn:3:22: error: dense: parameter 'units' must be >= 1, got 0
                            output o = dense(0)
                                             ^
                    t.nn:7:24: error: 'flatten' takes no arguments
                            output o = flatten(1)
                                               ^
                    """),
            // ---- blocks: errors inside expansions carry a note per call site ----
            row("shape error in a nested block", """
                    block inner(c)(x) {
                        return conv(c, kernel=5)
                    }
                    block outer(c)(x) {
                        y = inner(c)
                        return y
                    }
                    model M {
                        input x: [1, 4, 4]
                        output o = outer(3)
                    }
                    """, """
                    t.nn:2:12: error: conv: output would be empty: padded input 4x4 is smaller than the dilated kernel 5x5
                            return conv(c, kernel=5)
                                   ^~~~~~~~~~~~~~~~~
                    t.nn:5:9: note: in block 'inner' called from here
                            y = inner(c)
                                ^~~~~~~~
                    t.nn:10:16: note: in block 'outer' called from here
                            output o = outer(3)
                                       ^~~~~~~~
                    """),
            row("unknown layer in a block, reported at the first call", """
                    block b(c)(x) {
                        return dens(c)
                    }
                    model M {
                        input x: [4]
                        a = b(3)
                        output o = b(2)
                    }
                    """, """
                    t.nn:2:12: error: unknown layer 'dens'; did you mean 'dense'?
                            return dens(c)
                                   ^~~~
                    t.nn:6:9: note: in block 'b' called from here
                            a = b(3)
                                ^~~~
                    """),
            row("mutual and direct recursion", """
                    block a(c)(x) {
                        return x -> b(c)
                    }
                    block b(c)(x) {
                        y = if c > 1 then a(c - 1) else relu
                        return y
                    }
                    block self()(x) {
                        return self
                    }
                    model M {
                        input x: [4]
                        output o = dense(2)
                    }
                    """, """
                    t.nn:2:17: error: block 'a' is recursive: a -> b -> a
                            return x -> b(c)
                                        ^
                    t.nn:5:23: note: 'b' calls 'a' here
                            y = if c > 1 then a(c - 1) else relu
                                              ^
                    t.nn:9:12: error: block 'self' is recursive: self -> self
                            return self
                                   ^~~~
                    """),
            row("a value used before its definition", """
                    model M {
                        input x: [4]
                        h = relu(z)
                        z = dense(3)
                        output o = dense(2)
                    }
                    """, """
                    t.nn:3:14: error: 'z' is used before it is defined
                            h = relu(z)
                                     ^
                    t.nn:4:5: note: 'z' is defined here
                            z = dense(3)
                            ^
                    """),
            row("a value defined by itself", """
                    model M {
                        input x: [4]
                        h = h -> relu
                        output o = h
                    }
                    """, "t.nn:3:9: error: 'h' is used before it is defined"),
            row("shapes that cannot be added", """
                    model M {
                        input x: [4]
                        a = dense(3)
                        output o = a + x
                    }
                    """, """
                    t.nn:4:16: error: add: inputs must have the same shape, but input 0 is [3] and input 1 is [4]
                            output o = a + x
                                       ^~~~~
                    """),
            row("shapes that cannot be concatenated", """
                    model M {
                        input x: [2, 4, 4]
                        a = conv(3, kernel=3)
                        output o = concat(a, x)
                    }
                    """, "t.nn:4:16: error: concat: inputs must match on every axis but axis 0, but input 0 is [3, 2, 2] and input 1 is [2, 4, 4]"),
            row("block argument of the wrong type", """
                    block unit(c: int, p: float = 0.5)(x) {
                        return dense(c) -> dropout(p)
                    }
                    model M {
                        input x: [4]
                        output o = unit(2.5)
                    }
                    """, """
                    t.nn:6:21: error: unit: parameter 'c' expects int, got float 2.5
                            output o = unit(2.5)
                                            ^~~
                    """),
            row("misspelt block parameter", """
                    block unit(channels, p = 0.5)(x) {
                        return dense(channels) -> dropout(p)
                    }
                    model M {
                        input x: [4]
                        output o = unit(2, chanels=3)
                    }
                    """, "t.nn:6:24: error: unknown parameter 'chanels' for 'unit'; did you mean 'channels'?"),
            row("missing block parameter", """
                    block unit(c, p = 0.5)(x) {
                        return dense(c) -> dropout(p)
                    }
                    model M {
                        input x: [4]
                        output o = unit(p=0.1)
                    }
                    """, "t.nn:6:16: error: unit: missing required parameter 'c'"),
            row("too many block arguments", """
                    block unit(c)(x) {
                        return dense(c)
                    }
                    model M {
                        input x: [4]
                        output o = unit(1, 2)
                    }
                    """, "t.nn:6:24: error: unit: takes at most 1 positional argument, got 2"),
            row("a default of the wrong type", """
                    block unit(c: int, p: float = c > 2)(x) {
                        return dense(c) -> dropout(p)
                    }
                    model M {
                        input x: [4]
                        output o = unit(3)
                    }
                    """, """
                    t.nn:1:31: error: the default of parameter 'p' must be float, got bool true
                        block unit(c: int, p: float = c > 2)(x) {
                                                      ^~~~~
                    t.nn:6:16: note: in block 'unit' called from here
                            output o = unit(3)
                                       ^~~~~~~
                    """),
            row("unknown parameter type and a default that contradicts its type", """
                    block b(c: integer)(x) {
                        return dense(c)
                    }
                    block d(c: int = 0.5)(x) {
                        return dense(c)
                    }
                    model M {
                        input x: [4]
                        output o = dense(2)
                    }
                    """, """
                    t.nn:1:12: error: unknown type 'integer' (types: int, float, bool, string, list)
                        block b(c: integer)(x) {
                                   ^~~~~~~
                    t.nn:4:18: error: parameter 'c' is declared int but its default is float
                        block d(c: int = 0.5)(x) {
                                         ^~~
                    """),
            row("block given the wrong number of inputs", """
                    block join()(a, b) {
                        return a + b
                    }
                    model M {
                        input x: [4]
                        output o = join
                    }
                    """, "t.nn:6:16: error: block 'join' takes 2 inputs, got 1"),
            row("an input statement in a block", """
                    block b()(x) {
                        input y: [3]
                        return relu
                    }
                    model M {
                        input x: [4]
                        output o = b
                    }
                    """, "t.nn:2:5: error: 'input' belongs in a model; a block lists its inputs after its parameters: block b(...)(x)"),
            row("a return in a model", """
                    model M {
                        input x: [4]
                        return relu
                    }
                    """, "t.nn:3:5: error: 'return' belongs in a block; a model marks its results with 'output <name> = ...'"),
            row("a block without a return", """
                    block b()(x) {
                        y = relu
                    }
                    model M {
                        input x: [4]
                        output o = b
                    }
                    """, "t.nn:1:7: error: block 'b' has no 'return'; end it with 'return <value>'"),
            row("a statement after the return", """
                    block b()(x) {
                        return relu
                        y = tanh
                    }
                    model M {
                        input x: [4]
                        output o = b
                    }
                    """, "t.nn:3:5: error: statement after 'return'; a block ends with its 'return'"),
            row("duplicate block", """
                    block unit()(x) {
                        return relu
                    }
                    block unit()(x) {
                        return tanh
                    }
                    model M {
                        input x: [4]
                        output o = unit
                    }
                    """, """
                    t.nn:4:7: error: duplicate block 'unit'
                        block unit()(x) {
                              ^~~~
                    t.nn:1:7: note: 'unit' is first defined here
                        block unit()(x) {
                              ^~~~
                    """),
            row("a block's parameter named twice, in a block nobody calls", """
                    block b(c: int, c: float)(x) {
                        return x -> dense(c)
                    }
                    """ + MODEL, """
                    t.nn:1:17: error: duplicate name 'c'
                        block b(c: int, c: float)(x) {
                                        ^~~~~~~~
                    t.nn:1:9: note: 'c' is first defined here
                        block b(c: int, c: float)(x) {
                                ^~~~~~
                    """),
            row("a block's input named twice is found before its call is miscounted", """
                    block b(c: int)(x, x) {
                        return x
                    }
                    model M {
                        input x: [4]
                        output o = b(1)
                    }
                    """, """
                    t.nn:1:20: error: duplicate name 'x'
                        block b(c: int)(x, x) {
                                           ^
                    t.nn:1:17: note: 'x' is first defined here
                        block b(c: int)(x, x) {
                                        ^
                    """),
            row("a block's value named like its input", """
                    block b()(x) {
                        x = relu
                        return x
                    }
                    """ + MODEL, """
                    t.nn:2:5: error: duplicate name 'x'
                            x = relu
                            ^
                    t.nn:1:11: note: 'x' is first defined here
                        block b()(x) {
                                  ^
                    """),
            row("a model called with an input of another shape", """
                    model Enc {
                        input image: [1, 28, 28]
                        output f = flatten
                    }
                    model M {
                        input x: [3, 32, 32]
                        output o = Enc
                    }
                    """, """
                    t.nn:2:5: error: model 'Enc' expects input 'image' of shape [1, 28, 28], got [3, 32, 32]
                            input image: [1, 28, 28]
                            ^~~~~~~~~~~~~~~~~~~~~~~~
                    t.nn:7:16: note: in model 'Enc' called from here
                            output o = Enc
                                       ^~~
                    """),
            // ---- repetition, conditions and value expressions ----
            row("repeat count zero", """
                    model M {
                        input x: [4]
                        output o = dense(4) * 0
                    }
                    """, "t.nn:3:27: error: repeat count must be at least 1, got 0"),
            row("repeat count too large", """
                    model M {
                        input x: [4]
                        output o = dense(4) * 1000000
                    }
                    """, "t.nn:3:27: error: repeat count 1000000 is too large (a model has at most 20,000 layers)"),
            row("a repeated value", """
                    model M {
                        input x: [4]
                        output o = x * 2
                    }
                    """, "t.nn:3:16: error: a value cannot be repeated; repeat a layer or block call, e.g. 'residual(64) * 2'"),
            row("values subtracted", """
                    model M {
                        input x: [4]
                        a = dense(4)
                        output o = a - x
                    }
                    """, "t.nn:4:18: error: values cannot be subtracted; '+' (the add layer) is the only operator between values"),
            row("a condition that is not a bool", """
                    block b(c)(x) {
                        return if c then relu else tanh
                    }
                    model M {
                        input x: [4]
                        output o = b(1)
                    }
                    """, """
                    t.nn:2:15: error: condition must be a bool, got int
                            return if c then relu else tanh
                                      ^
                    t.nn:6:16: note: in block 'b' called from here
                            output o = b(1)
                                       ^~~~
                    """),
            row("a string compared with an int", """
                    model M(kind = "wide") {
                        input x: [4]
                        output o = dense(if kind == 2 then 4 else 8)
                    }
                    """, "t.nn:3:30: error: cannot compare string and int with '=='"),
            row("a constant where a value is expected", """
                    model M(width = 4) {
                        input x: [4]
                        output o = 2 * width
                    }
                    """, "t.nn:3:16: error: expected a layer, a block or a value here, not a constant"),
            row("a number after an arrow", "model M { input x: [4]; output o = x -> 3 }",
                    "t.nn:1:41: error: mismatched input '3'. Expecting: '(', <identifier>"),
            // ---- train sections ----
            row("unknown train setting", MODEL + "train M {\n    epoch = 5\n}\n", """
                    t.nn:6:5: error: unknown train setting 'epoch'; did you mean 'epochs'?
                            epoch = 5
                            ^~~~~
                    """),
            row("unknown train setting without a close match", MODEL + "train M {\n    lr = 0.1\n}\n",
                    "t.nn:6:5: error: unknown train setting 'lr' (settings: data, loss, optimizer, schedule, batch, epochs, seed, clip, augment, validation, early_stopping, keep)"),
            row("unknown loss", MODEL + "train M {\n    loss = hinge\n}\n",
                    "t.nn:6:12: error: unknown loss 'hinge' (losses: softmax_cross_entropy, cross_entropy, mse)"),
            row("an argument to a loss that takes none", MODEL + "train M {\n    loss = mse(reduction=1)\n}\n",
                    "t.nn:6:16: error: 'mse' takes no arguments"),
            row("clip must be positive", MODEL + "train M {\n    clip = 0\n}\n",
                    "t.nn:6:12: error: clip must be a positive number, got 0"),
            row("augmentation on a model that does not take images", MODEL + "train M {\n    augment = [flip(horizontal)]\n}\n",
                    "t.nn:6:15: error: augment works on images [channels, height, width]; this model's input is [4]"),
            row("augment that is not a list", IMAGE_MODEL + "train M {\n    augment = flip(horizontal)\n}\n",
                    "t.nn:6:15: error: augment expects a list such as [flip(horizontal), rotate(degrees=10)]"),
            row("unknown augmentation", IMAGE_MODEL + "train M {\n    augment = [flip(horizontal), blur(2)]\n}\n", """
                    t.nn:6:34: error: unknown augmentation 'blur' (augmentations: random_crop, flip, rotate, jitter)
                            augment = [flip(horizontal), blur(2)]
                                                         ^~~~
                    """),
            row("misspelt augmentation", IMAGE_MODEL + "train M {\n    augment = [rotat(10)]\n}\n",
                    "t.nn:6:16: error: unknown augmentation 'rotat'; did you mean 'rotate'?"),
            row("augment entry that is not a call", IMAGE_MODEL + "train M {\n    augment = [3]\n}\n",
                    "t.nn:6:16: error: augment lists calls such as flip(horizontal) (augmentations: random_crop, flip, rotate, jitter)"),
            row("crop that is not the input's size", IMAGE_MODEL + "train M {\n    augment = [random_crop(24, pad=4)]\n}\n",
                    "t.nn:6:28: error: random_crop: parameter 'size' must be 28, the input's height and width (a crop keeps the shape "
                            + "the model takes), got 24"),
            row("crop without padding", IMAGE_MODEL + "train M {\n    augment = [random_crop(28, pad=0)]\n}\n",
                    "t.nn:6:36: error: random_crop: parameter 'pad' must be in [1, 4096], got 0"),
            row("flip in an unknown direction", IMAGE_MODEL + "train M {\n    augment = [flip(diagonal)]\n}\n",
                    "t.nn:6:21: error: flip: parameter 'direction' must be horizontal or vertical, got diagonal"),
            row("rotate without degrees", IMAGE_MODEL + "train M {\n    augment = [rotate]\n}\n",
                    "t.nn:6:16: error: rotate: missing required parameter 'degrees'"),
            row("rotate by more than half a turn", IMAGE_MODEL + "train M {\n    augment = [rotate(degrees=270)]\n}\n",
                    "t.nn:6:31: error: rotate: parameter 'degrees' must be in [0, 180], got 270"),
            row("misspelt jitter argument", IMAGE_MODEL + "train M {\n    augment = [jitter(brightnes=0.2)]\n}\n",
                    "t.nn:6:23: error: unknown parameter 'brightnes' for 'jitter'; did you mean 'brightness'?"),
            row("jitter that changes nothing", IMAGE_MODEL + "train M {\n    augment = [jitter]\n}\n",
                    "t.nn:6:16: error: jitter: give brightness or contrast (or both) above 0, e.g. jitter(brightness=0.2)"),
            row("undefined name in an augmentation", IMAGE_MODEL + "train M {\n    augment = [rotate(degrees=big)]\n}\n",
                    "t.nn:6:31: error: undefined name 'big'; train settings take numbers here"),
            row("unknown optimizer", MODEL + "train M {\n    optimizer = adamax(lr=0.1)\n}\n", """
                    t.nn:6:17: error: unknown optimizer 'adamax'; did you mean 'adam'?
                            optimizer = adamax(lr=0.1)
                                        ^~~~~~
                    """),
            row("negative adamw weight decay", MODEL + "train M {\n    optimizer = adamw(weight_decay=-0.1)\n}\n",
                    "t.nn:6:36: error: adamw: parameter 'weight_decay' must be in [0, 1000], got -0.1"),
            row("misspelt rmsprop argument", MODEL + "train M {\n    optimizer = rmsprop(alpah=0.9)\n}\n",
                    "t.nn:6:25: error: unknown parameter 'alpah' for 'rmsprop'; did you mean 'alpha'?"),
            row("rmsprop centered that is not a bool", MODEL + "train M {\n    optimizer = rmsprop(centered=1)\n}\n",
                    "t.nn:6:34: error: rmsprop: parameter 'centered' expects bool, got int 1"),
            row("optimizer argument of the wrong type", MODEL + "train M {\n    optimizer = sgd(lr=\"fast\")\n}\n",
                    "t.nn:6:24: error: sgd: parameter 'lr' expects float, got string \"fast\""),
            row("optimizer argument out of range", MODEL + "train M {\n    optimizer = sgd(lr=-1)\n}\n",
                    "t.nn:6:24: error: sgd: parameter 'lr' must be in [0, 1000], got -1"),
            row("misspelt optimizer argument", MODEL + "train M {\n    optimizer = sgd(momentun=0.9)\n}\n",
                    "t.nn:6:21: error: unknown parameter 'momentun' for 'sgd'; did you mean 'momentum'?"),
            row("unknown schedule", MODEL + "train M {\n    schedule = cosin\n}\n", """
                    t.nn:6:16: error: unknown schedule 'cosin'; did you mean 'cosine'?
                            schedule = cosin
                                       ^~~~~
                    """),
            row("unknown schedule without a close match", MODEL + "train M {\n    schedule = plateau(patience=2)\n}\n",
                    "t.nn:6:16: error: unknown schedule 'plateau' (schedules: constant, step, exponential, cosine)"),
            row("schedule that is not a name", MODEL + "train M {\n    schedule = 3\n}\n",
                    "t.nn:6:16: error: schedule expects a name or a call such as step(every=3, gamma=0.1)"),
            row("step schedule without every", MODEL + "train M {\n    schedule = step(gamma=0.5)\n}\n",
                    "t.nn:6:16: error: step: missing required parameter 'every'"),
            row("step schedule as a bare name", MODEL + "train M {\n    schedule = step\n}\n",
                    "t.nn:6:16: error: step: missing required parameter 'every'"),
            row("step every zero", MODEL + "train M {\n    schedule = step(every=0)\n}\n", """
                    t.nn:6:27: error: step: parameter 'every' must be >= 1, got 0
                            schedule = step(every=0)
                                                  ^
                    """),
            row("step every not an int", MODEL + "train M {\n    schedule = step(every=1.5)\n}\n",
                    "t.nn:6:27: error: step: parameter 'every' expects int, got float 1.5"),
            row("misspelt schedule argument", MODEL + "train M {\n    schedule = step(evry=2)\n}\n",
                    "t.nn:6:21: error: unknown parameter 'evry' for 'step'; did you mean 'every'?"),
            row("exponential gamma zero", MODEL + "train M {\n    schedule = exponential(gamma=0)\n}\n", """
                    t.nn:6:34: error: exponential: parameter 'gamma' must be > 0, got 0
                            schedule = exponential(gamma=0)
                                                         ^
                    """),
            row("exponential without gamma", MODEL + "train M {\n    schedule = exponential\n}\n",
                    "t.nn:6:16: error: exponential: missing required parameter 'gamma'"),
            row("negative positional step gamma", MODEL + "train M {\n    schedule = step(2, -0.5)\n}\n",
                    "t.nn:6:24: error: step: parameter 'gamma' must be > 0, got -0.5"),
            row("negative cosine min_lr", MODEL + "train M {\n    schedule = cosine(min_lr=-1)\n}\n",
                    "t.nn:6:30: error: cosine: parameter 'min_lr' must be >= 0, got -1"),
            row("cosine min_lr above a later optimizer's lr", MODEL
                            + "train M {\n    schedule = cosine(min_lr=0.1)\n    optimizer = sgd(lr=0.05, momentum=0.9)\n}\n", """
                    t.nn:6:30: error: cosine: parameter 'min_lr' must be below the optimizer's lr 0.05 (where the schedule starts), got 0.1
                            schedule = cosine(min_lr=0.1)
                                                     ^~~
                    """),
            row("cosine min_lr equal to the default lr", MODEL + "train M {\n    schedule = cosine(0.01)\n}\n",
                    "t.nn:6:23: error: cosine: parameter 'min_lr' must be below the optimizer's lr 0.01 (where the schedule starts), got 0.01"),
            row("a constant schedule's warm-up of the wrong type", MODEL + "train M {\n    schedule = constant(0.1)\n}\n",
                    "t.nn:6:25: error: constant: parameter 'warmup' expects int, got float 0.1"),
            row("a negative warm-up", MODEL + "train M {\n    schedule = cosine(warmup=-1)\n}\n",
                    "t.nn:6:30: error: cosine: parameter 'warmup' must be >= 0, got -1"),
            row("a warm-up as long as the run", MODEL + "train M {\n    schedule = cosine(warmup=5)\n}\n",
                    "t.nn:6:30: error: cosine: parameter 'warmup' must be fewer epochs than the run's 5 (the schedule"
                            + " needs at least one epoch after it), got 5"),
            row("a warm-up longer than a later epochs setting", MODEL
                    + "train M {\n    schedule = step(every=2, warmup=3)\n    epochs = 3\n}\n",
                    "t.nn:6:37: error: step: parameter 'warmup' must be fewer epochs than the run's 3 (the schedule"
                            + " needs at least one epoch after it), got 3"),
            row("batch of the wrong type", MODEL + "train M {\n    batch = 6.4\n}\n",
                    "t.nn:6:13: error: batch expects an int, got float"),
            row("batch zero", MODEL + "train M {\n    batch = 0\n}\n", "t.nn:6:13: error: batch must be at least 1, got 0"),
            row("data of the wrong type", MODEL + "train M {\n    data = 3\n}\n",
                    "t.nn:6:12: error: data expects a dataset name, a folder path in quotes, or a source such as adding(length=100)"),
            row("setting given twice", MODEL + "train M {\n    batch = 8\n    batch = 16\n}\n", """
                    t.nn:7:5: error: setting 'batch' given twice
                            batch = 16
                            ^~~~~
                    t.nn:6:5: note: first given here
                            batch = 8
                            ^~~~~
                    """),
            row("train section for an unknown model", MODEL + "train N {\n    batch = 8\n}\n",
                    "t.nn:5:7: error: train section for unknown model 'N'; did you mean 'M'?"),
            row("validation of the whole training split", MODEL + "train M {\n    validation = 1\n}\n",
                    "t.nn:6:18: error: validation must be a fraction of the training split between 0 and 1 (exclusive),"
                            + " got 1"),
            row("validation that is not a number", MODEL + "train M {\n    validation = \"tenth\"\n}\n",
                    "t.nn:6:18: error: validation expects a fraction of the training split such as 0.1, got"
                            + " string"),
            row("early stopping without a validation split", MODEL + "train M {\n    early_stopping = patience(3)\n}\n",
                    "t.nn:6:5: error: early_stopping watches val_loss, which needs a validation split: add validation ="
                            + " 0.1 (the fraction of the training split held out); the test split is never used to choose"),
            row("unknown early stopping rule", MODEL + "train M {\n    validation = 0.1\n    early_stopping = patiense(3)\n}\n",
                    "t.nn:7:22: error: unknown early stopping rule 'patiense'; did you mean 'patience'?"),
            row("early stopping without patience", MODEL + "train M {\n    validation = 0.1\n    early_stopping = patience\n}\n",
                    "t.nn:7:22: error: patience: missing required parameter 'patience'"),
            row("a patience of zero", MODEL + "train M {\n    validation = 0.1\n    early_stopping = patience(0)\n}\n",
                    "t.nn:7:31: error: patience: parameter 'patience' must be >= 1, got 0"),
            row("early stopping on the test split", MODEL
                    + "train M {\n    validation = 0.1\n    early_stopping = patience(3, metric=\"test_loss\")\n}\n",
                    "t.nn:7:41: error: patience: parameter 'metric' must be one of val_loss, val_accuracy (the"
                            + " validation split's), got 'test_loss'"),
            row("a negative min_delta", MODEL
                    + "train M {\n    validation = 0.1\n    early_stopping = patience(3, min_delta=-0.01)\n}\n",
                    "t.nn:7:44: error: patience: parameter 'min_delta' must be >= 0, got -0.01"),
            row("keep best without a validation split", MODEL + "train M {\n    keep = best(metric=\"val_accuracy\")\n}\n",
                    "t.nn:6:5: error: keep = best compares val_accuracy, which needs a validation split: add validation"
                            + " = 0.1 (the fraction of the training split held out); the test split is never used to choose"),
            row("keep something else", MODEL + "train M {\n    validation = 0.1\n    keep = first\n}\n",
                    "t.nn:7:12: error: keep is last or best(metric=...), not 'first' (choices: last, best)"),
            row("keep the best accuracy of a regression", MODEL
                    + "train M {\n    loss = mse\n    validation = 0.2\n    keep = best(metric=\"val_accuracy\")\n}\n",
                    "t.nn:8:24: error: best: parameter 'metric' is val_accuracy, but a regression loss has no accuracy;"
                            + " watch val_loss"),
            row("images with the test hold-out's old name", MODEL
                    + "train M {\n    data = images(folder=\"photos\", size=[1, 2, 2], validation=0.2)\n}\n",
                    "t.nn:6:52: error: images: the fraction held out as the test split is called test_fraction; a"
                            + " validation split (to choose epochs by) is the train setting validation = 0.1"),
            row("a memory bound that is not a size", MODEL + "train M {\n    data = idx(folder=\"digits\", memory=\"lots\")\n}\n",
                    "t.nn:6:40: error: idx: memory \"lots\" is not a size; write a whole number of bytes, or one with k, m or g"
                            + " (binary multiples: 1m = 1,048,576 bytes), e.g. memory=\"256m\""),
            row("idx with an empty memory bound", MODEL + "train M {\n    data = idx(folder=\"digits\", memory=\"\")\n}\n",
                    "t.nn:6:40: error: idx: memory is the most bytes of images held while they stream, e.g. memory=\"64m\";"
                            + " to read IDX files into memory, name their folder instead: data = \"folder\""),
            row("two train sections", MODEL + "train M { batch = 8 }\ntrain M { batch = 16 }\n",
                    "t.nn:6:7: error: model 'M' has two train sections"));
    }

    private static Arguments row(String name, String source, String expected) {
        return Arguments.of(name, source, expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rendersTheExpectedDiagnostic(String name, String source, String expected) {
        ScriptLoader loader = new ScriptLoader(PluginLayers.REGISTRY);
        ModelException e = assertThrows(ModelException.class, () -> loader.parse("t.nn", source));
        String rendered = loader.render(e);
        if (expected.contains("\n")) {
            assertEquals(expected, rendered);
        } else {
            assertEquals(expected, rendered.substring(0, rendered.indexOf('\n')));
        }
    }

    /** A line too long to show whole is shown around the culprit, wherever on the line it is. */
    @Test
    void aLongLineIsShownAroundTheCulprit() {
        String line = "    output o = " + "relu -> ".repeat(40) + "reluu";
        ScriptLoader loader = new ScriptLoader(PluginLayers.REGISTRY);
        ModelException e = assertThrows(ModelException.class,
                () -> loader.parse("t.nn", "model M {\n    input x: [4]\n" + line + "\n}\n"));
        assertEquals("t.nn:3:336: error: unknown layer 'reluu'; did you mean 'relu'?\n"
                + "    ..." + line.substring(275) + "\n"
                + "    " + " ".repeat(63) + "^~~~~\n", loader.render(e));

        String early = "    output o = reluu" + " -> relu".repeat(40);
        e = assertThrows(ModelException.class, () -> loader.parse("t.nn", "model M {\n    input x: [4]\n" + early + "\n}\n"));
        assertEquals("t.nn:3:16: error: unknown layer or value 'reluu'; did you mean 'relu'?\n"
                + "    " + early.substring(0, 200) + "...\n"
                + "    " + " ".repeat(15) + "^~~~~\n", loader.render(e));
    }
}
