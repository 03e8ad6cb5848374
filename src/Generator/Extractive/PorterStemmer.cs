namespace Rag.Generator.Extractive;

/// <summary>
/// M. F. Porter, "An algorithm for suffix stripping", Program 14(3), 1980: the original five steps, so
/// "opened" meets "open" and "dedicated" meets "dedicate". Input is one lower-case word. The comments use
/// the paper's terms: [C](VC)^m[V] is a word's form, m its measure, *v* "the stem has a vowel",
/// *d "ends in a double consonant", *o "ends consonant-vowel-consonant, the last not w, x or y".
/// </summary>
public static class PorterStemmer
{
    public static string Stem(string word)
    {
        if (word.Length <= 2) return word;
        var s = new State(word);
        s.Step1ab();
        if (s.K > 0)
        {
            s.Step1c();
            s.Step2();
            s.Step3();
            s.Step4();
            s.Step5();
        }
        return new string(s.B, 0, s.K + 1);
    }

    sealed class State(string word)
    {
        public readonly char[] B = word.ToCharArray();
        public int K = word.Length - 1;   // last index of the current word
        int j;                            // last index of the stem before a matched suffix

        bool Cons(int i) => B[i] switch
        {
            'a' or 'e' or 'i' or 'o' or 'u' => false,
            'y' => i == 0 || !Cons(i - 1),
            _ => true,
        };

        /// <summary>m: the number of VC sequences in B[0..j].</summary>
        int M()
        {
            int n = 0, i = 0;
            while (true) { if (i > j) return n; if (!Cons(i)) break; i++; }
            i++;
            while (true)
            {
                while (true) { if (i > j) return n; if (Cons(i)) break; i++; }
                i++;
                n++;
                while (true) { if (i > j) return n; if (!Cons(i)) break; i++; }
                i++;
            }
        }

        bool VowelInStem()
        {
            for (var i = 0; i <= j; i++) if (!Cons(i)) return true;
            return false;
        }

        bool DoubleC(int i) => i >= 1 && B[i] == B[i - 1] && Cons(i);

        bool Cvc(int i) => i >= 2 && Cons(i) && !Cons(i - 1) && Cons(i - 2) && B[i] is not ('w' or 'x' or 'y');

        bool Ends(string suffix)
        {
            var l = suffix.Length;
            if (l > K + 1 || B[K] != suffix[^1]) return false;
            for (var i = 0; i < l; i++) if (B[K - l + 1 + i] != suffix[i]) return false;
            j = K - l;
            return true;
        }

        void SetTo(string s)
        {
            for (var i = 0; i < s.Length; i++) B[j + 1 + i] = s[i];
            K = j + s.Length;
        }

        void R(string s) { if (M() > 0) SetTo(s); }

        /// <summary>Plurals and -ed, -ing: caresses → caress, ponies → poni, feed → feed, agreed → agree, hopping → hop.</summary>
        public void Step1ab()
        {
            if (B[K] == 's')
            {
                if (Ends("sses")) K -= 2;
                else if (Ends("ies")) SetTo("i");
                else if (K >= 1 && B[K - 1] != 's') K--;
            }
            if (Ends("eed")) { if (M() > 0) K--; }
            else if ((Ends("ed") || Ends("ing")) && VowelInStem())
            {
                K = j;
                if (Ends("at")) SetTo("ate");
                else if (Ends("bl")) SetTo("ble");
                else if (Ends("iz")) SetTo("ize");
                else if (DoubleC(K)) { K--; if (B[K] is 'l' or 's' or 'z') K++; }
                else if (MeasureOfWhole() == 1 && Cvc(K)) { j = K; SetTo("e"); }
            }
        }

        int MeasureOfWhole() { j = K; return M(); }

        /// <summary>(*v*) y → i: happy → happi.</summary>
        public void Step1c()
        {
            if (Ends("y") && VowelInStem()) B[K] = 'i';
        }

        /// <summary>(m > 0) double suffixes to single ones: relational → relate, hopefulness → hopeful.</summary>
        public void Step2()
        {
            if (K < 1) return;
            switch (B[K - 1])
            {
                case 'a': if (Ends("ational")) R("ate"); else if (Ends("tional")) R("tion"); break;
                case 'c': if (Ends("enci")) R("ence"); else if (Ends("anci")) R("ance"); break;
                case 'e': if (Ends("izer")) R("ize"); break;
                case 'l':
                    if (Ends("bli")) R("ble");
                    else if (Ends("alli")) R("al");
                    else if (Ends("entli")) R("ent");
                    else if (Ends("eli")) R("e"); else if (Ends("ousli")) R("ous");
                    break;
                case 'o': if (Ends("ization")) R("ize"); else if (Ends("ation")) R("ate"); else if (Ends("ator")) R("ate"); break;
                case 's':
                    if (Ends("alism")) R("al");
                    else if (Ends("iveness")) R("ive");
                    else if (Ends("fulness")) R("ful");
                    else if (Ends("ousness")) R("ous");
                    break;
                case 't': if (Ends("aliti")) R("al"); else if (Ends("iviti")) R("ive"); else if (Ends("biliti")) R("ble"); break;
                case 'g': if (Ends("logi")) R("log"); break;
            }
        }

        /// <summary>(m > 0) -ic-, -full, -ness: electrical → electric, goodness → good.</summary>
        public void Step3()
        {
            switch (B[K])
            {
                case 'e': if (Ends("icate")) R("ic"); else if (Ends("ative")) R(""); else if (Ends("alize")) R("al"); break;
                case 'i': if (Ends("iciti")) R("ic"); break;
                case 'l': if (Ends("ical")) R("ic"); else if (Ends("ful")) R(""); break;
                case 's': if (Ends("ness")) R(""); break;
            }
        }

        /// <summary>(m > 1) drop -ant, -ence, -ment, -ion (after s or t) and the like: adjustment → adjust.</summary>
        public void Step4()
        {
            if (K < 1) return;
            var matched = B[K - 1] switch
            {
                'a' => Ends("al"),
                'c' => Ends("ance") || Ends("ence"),
                'e' => Ends("er"),
                'i' => Ends("ic"),
                'l' => Ends("able") || Ends("ible"),
                'n' => Ends("ant") || Ends("ement") || Ends("ment") || Ends("ent"),
                'o' => (Ends("ion") && j >= 0 && B[j] is 's' or 't') || Ends("ou"),
                's' => Ends("ism"),
                't' => Ends("ate") || Ends("iti"),
                'u' => Ends("ous"),
                'v' => Ends("ive"),
                'z' => Ends("ize"),
                _ => false,
            };
            if (matched && M() > 1) K = j;
        }

        /// <summary>A final -e where m > 1 (or m = 1 and not *o), and -ll where m > 1: probate → probat, controll → control.</summary>
        public void Step5()
        {
            j = K;
            if (B[K] == 'e')
            {
                var m = M();
                if (m > 1 || (m == 1 && !Cvc(K - 1))) K--;
            }
            if (B[K] == 'l' && DoubleC(K) && M() > 1) K--;
        }
    }
}
