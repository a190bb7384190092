/*
 * The .nn model language, v2 (docs/language.md is the user-facing description).
 *
 * A script is a sequence of `use`, `model`, `block` and `train` sections. Newlines are not
 * significant and `;` separators are optional: a statement starts with a keyword or an
 * identifier, and no expression can continue with one, so the parser knows where a statement
 * ends (a statement that starts with '(' or a sign continues the previous line; write ';').
 *
 * Layer and block names are not keywords: a call is any identifier, and the resolver asks the
 * LayerRegistry and the blocks in scope what it means.
 *
 * Expressions are written as one rule per precedence level, loosest first, each a loop rather
 * than left recursion, so `a + b + c + ...` and `a -> b -> c -> ...` give flat parse trees
 * whatever their length (only brackets, signs and `if`s nest, and ScriptParser caps those).
 */
grammar NN;

script
    : declaration* EOF
    ;

declaration
    : useDecl
    | modelDecl
    | blockDecl
    | trainDecl
    | SEMI
    ;

// use "blocks/resnet.nn"  (relative to the file that says it)
useDecl
    : USE path=STRING
    ;

// model LeNet5(classes = 10) { ... }
modelDecl
    : MODEL name=ID paramList? LBRACE statement* RBRACE
    ;

// block residual(c, stride = 1)(x) { ... return ... }
blockDecl
    : BLOCK name=ID paramList inputList LBRACE statement* RBRACE
    ;

paramList
    : LPAREN (param (COMMA param)* COMMA?)? RPAREN
    ;

// c, c: int, stride = 1, p: float = 0.5
param
    : name=ID (COLON type=ID)? (ASSIGN value=expr)?
    ;

inputList
    : LPAREN (ID (COMMA ID)* COMMA?)? RPAREN
    ;

// One rule for model and block bodies; which statements a body may hold is checked later,
// with a message that says why (an `input` in a block, a `return` in a model).
statement
    : INPUT name=ID COLON shape=expr      # inputStatement
    | OUTPUT name=ID ASSIGN value=expr    # outputStatement
    | RETURN value=expr                   # returnStatement
    | name=ID ASSIGN value=expr           # assignStatement
    | value=expr                          # exprStatement
    | SEMI                                # emptyStatement
    ;

// train LeNet5 { data = fashion_mnist; optimizer = sgd(lr=0.05) }
trainDecl
    : TRAIN model=ID LBRACE setting* RBRACE
    ;

setting
    : key=ID ASSIGN value=expr            # keyValueSetting
    | SEMI                                # emptySetting
    ;

// ---- expressions, loosest first ----

// if stride == 1 then x else x -> conv(c, kernel=1, stride=stride)
expr
    : IF cond=expr THEN yes=expr ELSE no=expr     # conditionalExpr
    | disjunction                                 # plainExpr
    ;

disjunction
    : conjunction (OR conjunction)*
    ;

conjunction
    : negation (AND negation)*
    ;

negation
    : NOT negation                                # notExpr
    | comparison                                  # plainNegation
    ;

// Comparisons do not chain: `a < b < c` is a syntax error.
comparison
    : sum (op=(EQ | NE | LT | LE | GT | GE) sum)?
    ;

// `+` joins values too (a + b is the add layer); it binds looser than `->`, so
// `x -> conv(...) + x` is `(x -> conv(...)) + x`.
sum
    : pipe (ops+=(PLUS | MINUS) pipe)*
    ;

// conv(6, kernel=5) -> relu -> maxpool(2); the head may name a value instead of a layer.
pipe
    : product (ARROW step)*
    ;

// After an arrow: a call or a bracketed expression, optionally repeated (residual(64) * 2).
step
    : (call | LPAREN inner=expr RPAREN) (STAR count=unary)?
    ;

call
    : name=ID (LPAREN argList? RPAREN)?
    ;

product
    : unary (ops+=(STAR | SLASH) unary)*
    ;

unary
    : op=(MINUS | PLUS) unary                     # signExpr
    | primary                                     # plainUnary
    ;

primary
    : LPAREN inner=expr RPAREN                    # parenExpr
    | LBRACK (expr (COMMA expr)* COMMA?)? RBRACK  # listExpr
    | name=ID LPAREN argList? RPAREN              # callExpr
    | name=ID                                     # nameExpr
    | INT                                         # intExpr
    | FLOAT                                       # floatExpr
    | STRING                                      # stringExpr
    | value=(TRUE | FALSE)                        # boolExpr
    ;

argList
    : argument (COMMA argument)* COMMA?
    ;

argument
    : name=ID ASSIGN value=expr           # namedArgument
    | value=expr                          # positionalArgument
    ;

MODEL  : 'model' ;
BLOCK  : 'block' ;
TRAIN  : 'train' ;
USE    : 'use' ;
INPUT  : 'input' ;
OUTPUT : 'output' ;
RETURN : 'return' ;
IF     : 'if' ;
THEN   : 'then' ;
ELSE   : 'else' ;
AND    : 'and' ;
OR     : 'or' ;
NOT    : 'not' ;
TRUE   : 'true' ;
FALSE  : 'false' ;

ARROW  : '->' ;
LPAREN : '(' ;
RPAREN : ')' ;
LBRACE : '{' ;
RBRACE : '}' ;
LBRACK : '[' ;
RBRACK : ']' ;
COMMA  : ',' ;
COLON  : ':' ;
SEMI   : ';' ;
EQ     : '==' ;
NE     : '!=' ;
LE     : '<=' ;
GE     : '>=' ;
LT     : '<' ;
GT     : '>' ;
ASSIGN : '=' ;
PLUS   : '+' ;
MINUS  : '-' ;
STAR   : '*' ;
SLASH  : '/' ;

ID     : [a-zA-Z_] [a-zA-Z_0-9]* ;

FLOAT
    : DIGITS '.' DIGITS EXPONENT?
    | '.' DIGITS EXPONENT?
    | DIGITS EXPONENT
    ;

INT    : DIGITS ;

// Any escape is lexed; AstBuilder rejects the ones the language does not define.
STRING : '"' (~["\\\r\n] | '\\' .)* '"' ;

// A string with no closing quote on its line; only wins when STRING cannot match.
UNTERMINATED_STRING : '"' (~["\\\r\n] | '\\' .)* ;

// Comments are kept on the hidden channel: the parser never sees them, `nn fmt` does.
COMMENT : '#' ~[\r\n]* -> channel(HIDDEN) ;
WS      : [ \t\r\n\f]+ -> skip ;

// Every other character becomes a token, so the parser reports it in its own words.
ERROR_CHAR : . ;

fragment DIGITS   : [0-9]+ ;
fragment EXPONENT : [eE] [+-]? DIGITS ;
