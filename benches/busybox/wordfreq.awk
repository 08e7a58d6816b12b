# Word frequencies of a text (busybox awk): split, associative arrays,
# string concatenation; prints the totals and a checksum of the counts.
{
    for (i = 1; i <= NF; i++) {
        count[$i]++
        words++
    }
}
END {
    for (w in count) {
        distinct++
        sum = (sum * 31 + count[w] * length(w)) % 1000000007
    }
    print NR, words, distinct, sum
}
